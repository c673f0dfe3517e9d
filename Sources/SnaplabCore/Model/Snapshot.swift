import Foundation

/// EC2's snapshot states.
public enum SnapshotState: String, Codable, Sendable, CaseIterable {
    case pending
    case completed
    case error
}

/// How consistent a snapshot's filesystem is.
public enum ConsistencyLevel: String, Codable, Sendable {
    /// Frozen, and before the freeze every application hook in the guest's fsfreeze-hook.d ran and succeeded
    /// (a database checkpointed, a queue drained): the applications' own data is clean, not only the filesystem.
    case appConsistent = "app-consistent"
    /// The guest agent froze the filesystem at the capture instant: clean, everything written before is in.
    case fsFrozen = "fs-frozen"
    /// As after a power cut: a journaling filesystem replays its journal on mount.
    case crash
}

/// A point-in-time copy of one volume in the snapshot store.
public struct Snapshot: Codable, Sendable, Equatable {
    public var id: String
    public var volumeId: String
    public var volumeRole: VolumeRole
    public var volumeSize: UInt64
    public var state: SnapshotState
    /// 0…100 while pending.
    public var progress: Double
    /// The volume's previous snapshot; the copy read only what changed since it when `incremental`.
    public var parentId: String?
    public var incremental: Bool
    /// Snapshots captured at one instant across several volumes share it.
    public var setId: String?
    public var consistency: ConsistencyLevel?
    /// Why the level is what it is (e.g. no guest agent).
    public var consistencyNote: String?
    /// Where the copy came from: a running instance's backup job, or the stopped volume itself.
    public var instanceId: String?
    /// The capture instant.
    public var createdAt: Date
    public var completedAt: Date?
    public var bytesRead: UInt64
    public var bytesChanged: UInt64
    public var bytesStored: UInt64
    /// Bytes that hold data in the volume at the capture instant.
    public var allocatedBytes: UInt64
    public var errorMessage: String?
    public var description: String?
    public var tags: [String: String]
    /// For boot volumes: how to boot what the snapshot holds.
    public var boot: BootSettings?
    /// The checkpoint (running instance) or qcow2 bitmap (stopped volume) created at the capture instant.
    public var checkpoint: String?
    /// The process copying it while pending, to tell a live copy from one whose process died.
    public var workerPid: Int32?
    public var workerStartTime: UInt64?
    /// Never pruned by a policy.
    public var pinned = false
    /// Locked against deletion until a date (EBS snapshot lock); an expired lock no longer protects.
    public var lock: SnapshotLock?

    public init(
        id: String, volumeId: String, volumeRole: VolumeRole, volumeSize: UInt64, state: SnapshotState,
        progress: Double = 0, parentId: String? = nil, incremental: Bool = false, setId: String? = nil,
        consistency: ConsistencyLevel? = nil, consistencyNote: String? = nil, instanceId: String? = nil,
        createdAt: Date = Date(), completedAt: Date? = nil, bytesRead: UInt64 = 0, bytesChanged: UInt64 = 0,
        bytesStored: UInt64 = 0, allocatedBytes: UInt64 = 0, errorMessage: String? = nil,
        description: String? = nil, tags: [String: String] = [:], boot: BootSettings? = nil,
        checkpoint: String? = nil, workerPid: Int32? = nil, workerStartTime: UInt64? = nil
    ) {
        self.id = id
        self.volumeId = volumeId
        self.volumeRole = volumeRole
        self.volumeSize = volumeSize
        self.state = state
        self.progress = progress
        self.parentId = parentId
        self.incremental = incremental
        self.setId = setId
        self.consistency = consistency
        self.consistencyNote = consistencyNote
        self.instanceId = instanceId
        self.createdAt = createdAt
        self.completedAt = completedAt
        self.bytesRead = bytesRead
        self.bytesChanged = bytesChanged
        self.bytesStored = bytesStored
        self.allocatedBytes = allocatedBytes
        self.errorMessage = errorMessage
        self.description = description
        self.tags = tags
        self.boot = boot
        self.checkpoint = checkpoint
        self.workerPid = workerPid
        self.workerStartTime = workerStartTime
    }
}
