import Foundation

/// What a volume is for: the disk an instance boots from, or one of its data disks.
public enum VolumeRole: String, Codable, Sendable, CaseIterable {
    case boot
    case data
}

/// EC2's volume states.
public enum VolumeState: String, Codable, Sendable {
    case creating
    case available
    case inUse = "in-use"
    case deleting
    case error
}

/// A qcow2 volume in a host's libvirt storage pool.
public struct Volume: Codable, Sendable, Equatable {
    public var id: String
    public var host: String
    public var role: VolumeRole
    /// Virtual size in bytes.
    public var size: UInt64
    public var state: VolumeState
    /// The volume's name inside the libvirt pool.
    public var poolVolume: String
    /// The qcow2 file on its host.
    public var path: String
    public var createdAt: Date
    /// The instance the volume is attached to (until that instance is terminated).
    public var instanceId: String?
    /// The guest device (`vda` is the boot disk, `vdb`… data disks).
    public var device: String?
    /// Removed with its instance on terminate (EC2's DeleteOnTermination).
    public var deleteOnTermination: Bool
    /// How to boot an OS from this volume, when it holds one.
    public var boot: BootSettings?
    /// Where its contents came from (e.g. a recipe build), for humans.
    public var origin: String?
    public var tags: [String: String]
    /// The volume's latest completed snapshot: the parent of its next one.
    public var lastSnapshotId: String?
    /// The checkpoint / qcow2 bitmap that tracks writes since that snapshot (changed-block tracking).
    public var cbtBase: String?
    /// For an overlay (an image instance's boot or data volume): the snapshot whose base volume backs it.
    public var baseSnapshotId: String?
    /// While `creating`: the process filling it (a restore), to tell a slow one from a dead one.
    public var workerPid: Int32?
    public var workerStartTime: UInt64?
    /// Set while the volume still reads what it lacks from its snapshot's block export (a lazy launch or
    /// restore); cleared once it sits on a local base.
    public var lazy: LazySource?

    public init(
        id: String, host: String, role: VolumeRole, size: UInt64, state: VolumeState, poolVolume: String,
        path: String, createdAt: Date = Date(), instanceId: String? = nil, device: String? = nil,
        deleteOnTermination: Bool = false, boot: BootSettings? = nil, origin: String? = nil,
        tags: [String: String] = [:]
    ) {
        self.id = id
        self.host = host
        self.role = role
        self.size = size
        self.state = state
        self.poolVolume = poolVolume
        self.path = path
        self.createdAt = createdAt
        self.instanceId = instanceId
        self.device = device
        self.deleteOnTermination = deleteOnTermination
        self.boot = boot
        self.origin = origin
        self.tags = tags
    }
}

/// Where a lazy volume reads what it has not got yet: a completed snapshot served by the host's export service.
public struct LazySource: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        /// The snapshot's base is hydrating on the host; the volume moves onto it when done.
        case pulling
        /// Hydration stopped (a damaged or missing chunk, the store unreachable); `reason` says why. It is
        /// retried, and resumes once the store is repaired.
        case degraded
    }

    public var snapshotId: String
    public var state: State
    public var reason: String?
    public var since: Date
    /// Bytes of the volume per second the hydration may pull (nil: as fast as it goes).
    public var pullRate: UInt64?

    public init(
        snapshotId: String, state: State = .pulling, reason: String? = nil, since: Date = Date(),
        pullRate: UInt64? = nil
    ) {
        self.snapshotId = snapshotId
        self.state = state
        self.reason = reason
        self.since = since
        self.pullRate = pullRate
    }
}
