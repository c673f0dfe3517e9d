import Foundation

/// One measured boot: its configuration and when each phase happened, in seconds since the launch call, on
/// one timeline (guest markers placed on the host clock).
public struct BootRecord: Codable, Sendable, Equatable {
    /// The phases in the order a boot goes through them: host-side first, then the guest's markers, then the
    /// shutdown. `kernel-start` is where the guest's uptime is zero on the host clock.
    public static let phaseOrder = [
        "defined", "start-returned", "started-event", "kernel-start", "initramfs", "fsck-start", "fsck-end",
        "root-mounted", "data-mounted", "ready", "shutdown-requested", "shutdown-event", "stopped",
    ]

    public var bootSize: UInt64
    public var fillPercent: Int
    public var smallFiles: Int
    public var variant: String
    public var fsck: FsckMode
    public var repeatIndex: Int
    public var allocatedBytes: UInt64
    public var phases: [String: Double]
    public var fsckStatus: Int?
    public var error: String?
    /// How it booted (nil: direct kernel boot).
    public var firmware: Firmware?
    /// `systemd-analyze`'s split of the boot (firmware, loader, kernel, initrd, userspace, in seconds), read
    /// through the guest agent where the guest runs systemd.
    public var systemd: [String: Double]?
    /// Seconds to hydrate the image's base on the host before its first launch (the same for every boot of a disk).
    public var hydrationSeconds: Double?
    /// Launched lazily from a never-launched image (booting from the store while its base hydrates).
    public var lazyFirstLaunch: Bool?

    public init(
        bootSize: UInt64, fillPercent: Int, smallFiles: Int, variant: String, fsck: FsckMode, repeatIndex: Int,
        allocatedBytes: UInt64, phases: [String: Double] = [:], fsckStatus: Int? = nil, error: String? = nil
    ) {
        self.bootSize = bootSize
        self.fillPercent = fillPercent
        self.smallFiles = smallFiles
        self.variant = variant
        self.fsck = fsck
        self.repeatIndex = repeatIndex
        self.allocatedBytes = allocatedBytes
        self.phases = phases
        self.fsckStatus = fsckStatus
        self.error = error
    }

    /// Seconds between two phases, when both happened.
    public func span(_ from: String, _ to: String) -> Double? {
        guard let start = phases[from], let end = phases[to] else { return nil }
        return end - start
    }

    public var firmwareLabel: String { (firmware ?? .direct).rawValue + (lazyFirstLaunch == true ? " lazy" : "") }

    public var fillLabel: String {
        fillPercent == 0 && smallFiles == 0 ? "empty" : "\(fillPercent)% + \(smallFiles) files"
    }
}
