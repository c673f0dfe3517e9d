import Foundation

/// EC2's image states (a deregistered image stays listed for a while, as EC2 shows it).
public enum ImageState: String, Codable, Sendable {
    /// Its snapshots are still being copied (CreateImage returns at once).
    case pending
    case available
    /// A snapshot it needed failed.
    case failed
    case deregistered
}

/// A data disk an image's instances get: restored from a snapshot, or new and empty.
public struct BlockDeviceMapping: Codable, Sendable, Equatable {
    /// `vdb`, `vdc`, …
    public var device: String
    public var snapshotId: String?
    /// Size of an empty volume (bytes); with a snapshot, at least the snapshot's size.
    public var size: UInt64?
    public var deleteOnTermination: Bool

    public init(device: String, snapshotId: String? = nil, size: UInt64? = nil, deleteOnTermination: Bool = true) {
        self.device = device
        self.snapshotId = snapshotId
        self.size = size
        self.deleteOnTermination = deleteOnTermination
    }
}

/// A machine image (AMI): a boot snapshot, how to boot it, and the data disks its instances get.
public struct MachineImage: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var description: String?
    public var state: ImageState
    public var bootSnapshotId: String
    /// SHA-256 of the kernel and initramfs, stored in the snapshot store as artifacts.
    public var kernelDigest: String
    public var initrdDigest: String
    /// The kernel command line (the lab adds the fsck mode and hostname per instance).
    public var cmdline: String
    /// How its instances boot; nil (images made before firmware boot) is direct. With firmware, the kernel and
    /// initramfs digests and the command line are empty: the boot disk carries its loader.
    public var firmware: Firmware?
    public var memoryMiB: Int
    public var vcpus: Int
    public var blockDeviceMappings: [BlockDeviceMapping]
    /// The instance it was made from, for `create-from-instance`.
    public var sourceInstanceId: String?
    public var createdAt: Date
    public var tags: [String: String]
    /// Why it failed, when it did.
    public var stateReason: String?

    public init(
        id: String, name: String, description: String?, state: ImageState, bootSnapshotId: String,
        kernelDigest: String, initrdDigest: String, cmdline: String, firmware: Firmware = .direct,
        memoryMiB: Int, vcpus: Int,
        blockDeviceMappings: [BlockDeviceMapping], sourceInstanceId: String? = nil,
        createdAt: Date = Date(), tags: [String: String] = [:]
    ) {
        self.id = id
        self.name = name
        self.description = description
        self.state = state
        self.bootSnapshotId = bootSnapshotId
        self.kernelDigest = kernelDigest
        self.initrdDigest = initrdDigest
        self.cmdline = cmdline
        self.firmware = firmware == .direct ? nil : firmware
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.blockDeviceMappings = blockDeviceMappings
        self.sourceInstanceId = sourceInstanceId
        self.createdAt = createdAt
        self.tags = tags
    }

    public var bootFirmware: Firmware { firmware ?? .direct }

    /// Every snapshot the image needs.
    public var snapshotIds: [String] {
        [bootSnapshotId] + blockDeviceMappings.compactMap(\.snapshotId)
    }
}

/// A snapshot an image uses, restored once on a host: the read-only backing file of the overlays its instances
/// boot from (boot snapshot) or keep data on (data mappings).
public struct BaseVolume: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case hydrating
        case ready
    }

    public var snapshotId: String
    public var host: String
    public var state: State
    public var poolVolume: String
    public var path: String
    public var size: UInt64
    public var createdAt: Date
    /// The process hydrating it, to tell a slow hydration from a dead one.
    public var workerPid: Int32?
    public var workerStartTime: UInt64?
    /// How much of the snapshot is restored, in percent (100 once ready).
    public var progress: Double = 0

    public init(
        snapshotId: String, host: String, state: State, poolVolume: String, path: String, size: UInt64,
        createdAt: Date = Date(), workerPid: Int32? = nil, workerStartTime: UInt64? = nil
    ) {
        self.snapshotId = snapshotId
        self.host = host
        self.state = state
        self.poolVolume = poolVolume
        self.path = path
        self.size = size
        self.createdAt = createdAt
        self.workerPid = workerPid
        self.workerStartTime = workerStartTime
    }
}
