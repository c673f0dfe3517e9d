/// What `image register` asks for (EC2 RegisterImage).
public struct ImageRegistration: Sendable {
    /// A data disk of the image: from a snapshot, or empty of a size.
    public struct DataDisk: Sendable, Equatable {
        public var snapshotId: String?
        public var size: UInt64?
        public var deleteOnTermination: Bool

        public init(snapshotId: String? = nil, size: UInt64? = nil, deleteOnTermination: Bool = true) {
            self.snapshotId = snapshotId
            self.size = size
            self.deleteOnTermination = deleteOnTermination
        }
    }

    public var name: String
    public var description: String?
    public var bootSnapshotId: String
    /// Boot with these instead of what the boot snapshot recorded.
    public var bootOverride: BootSettings?
    public var memoryMiB: Int
    public var vcpus: Int
    /// Data disks in device order (vdb, vdc, …).
    public var dataDisks: [DataDisk]
    public var tags: [String: String]

    public init(
        name: String, description: String? = nil, bootSnapshotId: String, bootOverride: BootSettings? = nil,
        memoryMiB: Int = 256, vcpus: Int = 1, dataDisks: [DataDisk] = [], tags: [String: String] = [:]
    ) {
        self.name = name
        self.description = description
        self.bootSnapshotId = bootSnapshotId
        self.bootOverride = bootOverride
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.dataDisks = dataDisks
        self.tags = tags
    }

    func validate() throws(SnaplabError) {
        guard !name.isEmpty, name.count <= 128,
            name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.()/ ".contains($0) })
        else {
            throw SnaplabError(.invalidArgument, "image name '\(name)' must be 1–128 letters, digits, spaces or -_.()/")
        }
        guard (64...65536).contains(memoryMiB), (1...64).contains(vcpus) else {
            throw SnaplabError(.invalidArgument, "memory must be 64–65536 MiB and vcpus 1–64")
        }
        for disk in dataDisks where disk.snapshotId == nil && disk.size == nil {
            throw SnaplabError(.invalidArgument, "a data disk needs a snapshot or a size")
        }
    }
}
