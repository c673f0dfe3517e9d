import Foundation

/// A libvirt domain launched by the lab.
public struct Instance: Codable, Sendable, Equatable {
    public var id: String
    public var host: String
    public var state: InstanceState
    /// Why it is in that state, when that is not obvious (a failed boot, a crash).
    public var stateReason: String?
    public var memoryMiB: Int
    public var vcpus: Int
    public var boot: BootSettings
    public var fsck: FsckMode
    /// The serial console log file on the host.
    public var consolePath: String
    public var createdAt: Date
    public var launchedAt: Date?
    public var tags: [String: String]
    /// The image it was launched from.
    public var imageId: String?
    /// The port on the host's 127.0.0.1 that reaches the guest's ssh port (user-mode networking).
    public var sshPort: Int?

    public init(
        id: String, host: String, state: InstanceState, stateReason: String? = nil, memoryMiB: Int,
        vcpus: Int, boot: BootSettings, fsck: FsckMode, consolePath: String, createdAt: Date = Date(),
        launchedAt: Date? = nil, tags: [String: String] = [:]
    ) {
        self.id = id
        self.host = host
        self.state = state
        self.stateReason = stateReason
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.boot = boot
        self.fsck = fsck
        self.consolePath = consolePath
        self.createdAt = createdAt
        self.launchedAt = launchedAt
        self.tags = tags
    }

    /// The libvirt domain's name: the instance id itself, so `virsh list` shows what the lab shows.
    public var domainName: String { id }
}

/// How the guest's initramfs checks the boot filesystem before mounting it.
public enum FsckMode: String, Codable, Sendable, CaseIterable {
    /// `e2fsck -f -y`: always a full check.
    case force
    /// `e2fsck -p`: only when the filesystem asks for it (mount count, errors, unclean).
    case auto
    /// No check.
    case skip
}
