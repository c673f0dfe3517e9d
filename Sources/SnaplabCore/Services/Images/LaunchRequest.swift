/// What `instance run` asks for.
public struct LaunchRequest: Sendable {
    public struct DataVolume: Sendable, Equatable {
        public var volumeId: String
        public var deleteOnTermination: Bool

        public init(volumeId: String, deleteOnTermination: Bool = false) {
            self.volumeId = volumeId
            self.deleteOnTermination = deleteOnTermination
        }
    }

    public var bootVolumeId: String
    public var dataVolumes: [DataVolume]
    public var memoryMiB: Int
    public var vcpus: Int
    public var fsck: FsckMode
    /// Boot with these instead of the boot volume's own settings.
    public var bootOverride: BootSettings?
    /// Boot by this firmware instead of the one the settings name (direct needs a known kernel).
    public var firmware: Firmware?
    /// EC2's default for a root device: the boot volume goes with the instance.
    public var deleteBootOnTermination: Bool
    public var tags: [String: String]
    /// How long to wait for the guest's `ready` marker.
    public var readyTimeout: Duration
    /// Return once the domain is started (state `pending`) instead of waiting for `ready`.
    public var waitUntilReady = true
    /// The image the volumes come from, when launched from one.
    public var imageId: String?
    /// Records host-side instants of the launch (`defined`, `started`) when set.
    public var timings: LaunchTimings?
    /// User data and ssh keys, delivered to cloud-init as a NoCloud seed.
    public var customization: GuestCustomization?

    public init(
        bootVolumeId: String, dataVolumes: [DataVolume] = [], memoryMiB: Int = 256, vcpus: Int = 1,
        fsck: FsckMode = .auto, bootOverride: BootSettings? = nil, deleteBootOnTermination: Bool = true,
        tags: [String: String] = [:], readyTimeout: Duration = .seconds(300)
    ) {
        self.bootVolumeId = bootVolumeId
        self.dataVolumes = dataVolumes
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.fsck = fsck
        self.bootOverride = bootOverride
        self.deleteBootOnTermination = deleteBootOnTermination
        self.tags = tags
        self.readyTimeout = readyTimeout
    }

    static let maximumDataVolumes = 24

    func validate() throws(SnaplabError) {
        guard (64...65536).contains(memoryMiB) else {
            throw SnaplabError(.invalidArgument, "memory must be between 64 and 65536 MiB; got \(memoryMiB)")
        }
        guard (1...64).contains(vcpus) else {
            throw SnaplabError(.invalidArgument, "vcpus must be between 1 and 64; got \(vcpus)")
        }
        guard dataVolumes.count <= Self.maximumDataVolumes else {
            throw SnaplabError(.invalidArgument, "at most \(Self.maximumDataVolumes) data volumes per instance")
        }
        let ids = [bootVolumeId] + dataVolumes.map(\.volumeId)
        guard Set(ids).count == ids.count else {
            throw SnaplabError(.invalidArgument, "a volume can be attached only once; the list repeats one")
        }
    }

    /// vdb, vdc, … for the data volumes in order.
    static func dataDevice(_ index: Int) -> String {
        "vd" + String(UnicodeScalar(UInt8(ascii: "b") + UInt8(index)))
    }
}
