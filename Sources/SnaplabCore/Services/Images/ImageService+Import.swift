import Foundation

/// What `image import` asks for (EC2 ImportImage): a disk image the user has, and how to boot it.
public struct ImageImportRequest: Sendable {
    public var file: URL
    /// Always named, never probed: `qcow2` or `raw`.
    public var format: String
    public var name: String
    public var description: String?
    /// How it boots: its firmware, and (for direct boot, or to allow it) the kernel and initramfs on the host
    /// with the command line.
    public var boot: BootSettings
    public var memoryMiB: Int
    public var vcpus: Int
    public var tags: [String: String]

    public init(
        file: URL, format: String, name: String, description: String? = nil, boot: BootSettings,
        memoryMiB: Int = 256, vcpus: Int = 1, tags: [String: String] = [:]
    ) {
        self.file = file
        self.format = format
        self.name = name
        self.description = description
        self.boot = boot
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.tags = tags
    }
}

extension ImageService {
    /// Checks the file (see `UntrustedDiskImage`), converts it into a boot volume in the pool, snapshots that
    /// volume into the store and registers an image from the snapshot; the volume itself goes again (the image
    /// keeps its snapshot), as EC2's ImportImage leaves an AMI and its snapshot.
    public func importImage(_ request: ImageImportRequest, host hostName: String? = nil) async throws(SnaplabError)
        -> MachineImage
    {
        guard let format = UntrustedDiskImage.Format(rawValue: request.format) else {
            throw SnaplabError(
                .invalidArgument, "format '\(request.format)' is not one of: qcow2, raw (name the file's format)")
        }
        try ImageRegistration(
            name: request.name, bootSnapshotId: "", memoryMiB: request.memoryMiB, vcpus: request.vcpus
        ).validate()
        let volume = try await volumes.importBoot(
            UntrustedDiskImage(file: request.file, format: format), boot: request.boot,
            origin: "import of \(request.file.lastPathComponent)", host: hostName)
        do throws(SnaplabError) {
            let snapshot = try await snapshots.wait(for: try await snapshots.create(volumeId: volume.id).id)
            guard snapshot.state == .completed else {
                throw SnaplabError(
                    .store, "the snapshot of the imported disk failed: \(snapshot.errorMessage ?? "no reason given")")
            }
            let image = try await register(
                ImageRegistration(
                    name: request.name, description: request.description, bootSnapshotId: snapshot.id,
                    memoryMiB: request.memoryMiB, vcpus: request.vcpus, tags: request.tags))
            try await volumes.delete(volume.id)
            return image
        } catch {
            await logger.bestEffort("deleting the imported volume \(volume.id)") { try await volumes.delete(volume.id) }
            throw error
        }
    }
}
