import Blocking
import Faults
import Foundation
import Logging

/// Machine images: boot snapshots with boot settings and data-disk mappings; and launching instances of them
/// (overlays on bases hydrated once per host).
public final class ImageService: Sendable {
    let logger = Logger(label: "snaplab.images")
    let catalog: Catalog
    let hosts: HostService
    let store: StoreService
    let snapshots: SnapshotService
    let instances: InstanceService
    let volumes: VolumeService
    let bases: BaseService
    let lazy: LazyVolumes
    let background: BackgroundWork

    init(
        catalog: Catalog, hosts: HostService, store: StoreService, snapshots: SnapshotService,
        instances: InstanceService, volumes: VolumeService, bases: BaseService, lazy: LazyVolumes,
        background: BackgroundWork
    ) {
        self.catalog = catalog
        self.hosts = hosts
        self.store = store
        self.snapshots = snapshots
        self.instances = instances
        self.volumes = volumes
        self.bases = bases
        self.lazy = lazy
        self.background = background
    }

    /// Registers an image from a completed boot snapshot (EC2 RegisterImage). Its kernel and initramfs go into
    /// the snapshot store, so the image is complete without the host's files.
    public func register(_ registration: ImageRegistration, sourceInstanceId: String? = nil)
        async throws(SnaplabError) -> MachineImage
    {
        try registration.validate()
        let boot = try await catalog.snapshot(registration.bootSnapshotId)
        guard boot.state == .completed else {
            throw SnaplabError(
                .invalidState, "snapshot \(boot.id) is \(boot.state.rawValue); register images from completed snapshots"
            )
        }
        guard boot.volumeRole == .boot else {
            throw SnaplabError(
                .invalidArgument, "snapshot \(boot.id) is of a data volume; an image boots from a boot-volume snapshot")
        }
        guard let settings = registration.bootOverride ?? boot.boot else {
            throw SnaplabError(
                .invalidArgument, "snapshot \(boot.id) records no kernel to boot; pass --kernel, --initrd and --cmdline"
            )
        }
        var mappings: [BlockDeviceMapping] = []
        for (index, disk) in registration.dataDisks.enumerated() {
            var size = disk.size
            if let snapshotId = disk.snapshotId {
                let snapshot = try await catalog.snapshot(snapshotId)
                guard snapshot.state == .completed, snapshot.volumeRole == .data else {
                    throw SnaplabError(
                        .invalidArgument, "snapshot \(snapshotId) is not a completed data-volume snapshot")
                }
                if let wanted = size, wanted < snapshot.volumeSize {
                    throw SnaplabError(
                        .invalidArgument,
                        "data disk \(index + 1) is smaller than its snapshot (\(ByteSize.format(snapshot.volumeSize)))")
                }
                size = snapshot.volumeSize
            }
            mappings.append(
                BlockDeviceMapping(
                    device: LaunchRequest.dataDevice(index), snapshotId: disk.snapshotId,
                    size: size, deleteOnTermination: disk.deleteOnTermination))
        }
        let kernel = try await putBootFile(settings.kernel)
        let initrd = try await putBootFile(settings.initrd)
        let image = MachineImage(
            id: ResourceID.generate(.image), name: registration.name, description: registration.description,
            state: .available, bootSnapshotId: boot.id, kernelDigest: kernel, initrdDigest: initrd,
            cmdline: settings.cmdline, firmware: settings.bootFirmware, memoryMiB: registration.memoryMiB,
            vcpus: registration.vcpus,
            blockDeviceMappings: mappings, sourceInstanceId: sourceInstanceId, tags: registration.tags)
        try await publish(image)
        try await catalog.insert(image)
        return image
    }

    /// EC2 CreateImage with no-reboot: snapshots every volume of the instance at one instant (filesystems
    /// frozen through the agent) and registers the image, `pending` until the copies complete. With `wait`,
    /// returns once it is `available` (or throws if a copy failed); without, returns the pending image.
    public func create(
        fromInstance instanceId: String, name: String, description: String? = nil,
        tags: [String: String] = [:], wait: Bool = true
    ) async throws(SnaplabError) -> MachineImage {
        let instance = try await catalog.instance(instanceId)
        try ImageRegistration(name: name, bootSnapshotId: "", memoryMiB: instance.memoryMiB, vcpus: instance.vcpus)
            .validate()
        let attached = try await catalog.volumes(attachedTo: instanceId)
        let pending = try await snapshots.createSet(
            instanceId: instanceId, options: SnapshotOptions(description: "for image \(name)", tags: tags))
        guard let boot = pending.first(where: { $0.volumeRole == .boot }) else {
            throw SnaplabError(.invalidState, "instance \(instanceId) has no boot volume")
        }
        let device = { (snapshot: Snapshot) in attached.first { $0.id == snapshot.volumeId }?.device ?? "" }
        let data = pending.filter { $0.volumeRole == .data }.sorted { device($0) < device($1) }
        let image = MachineImage(
            id: ResourceID.generate(.image), name: name, description: description, state: .pending,
            bootSnapshotId: boot.id, kernelDigest: try await putBootFile(instance.boot.kernel),
            initrdDigest: try await putBootFile(instance.boot.initrd), cmdline: instance.boot.cmdline,
            firmware: instance.boot.bootFirmware, memoryMiB: instance.memoryMiB, vcpus: instance.vcpus,
            blockDeviceMappings: data.enumerated().map { index, snapshot in
                BlockDeviceMapping(
                    device: LaunchRequest.dataDevice(index), snapshotId: snapshot.id,
                    size: snapshot.volumeSize, deleteOnTermination: true)
            },
            sourceInstanceId: instanceId, tags: tags)
        try await catalog.insert(image)
        guard wait else {
            if !background.submit("complete image \(image.id)", { _ = await self.complete(image, from: pending) }) {
                _ = await complete(image, from: pending)
            }
            return image
        }
        let finished = await complete(image, from: pending)
        if finished.state == .failed {
            throw SnaplabError(.io, "image \(finished.id) failed: \(finished.stateReason ?? "")")
        }
        return finished
    }

    /// Once the image's snapshots are copied: `available` (and published in the store), or `failed` with why.
    func complete(_ image: MachineImage, from pending: [Snapshot]) async -> MachineImage {
        var image = image
        var failure: String?
        for snapshot in pending {
            let finished = try? await snapshots.wait(for: snapshot.id)
            if finished?.state != .completed {
                failure =
                    failure
                    ?? "snapshot \(snapshot.id) of \(snapshot.volumeId) failed: \(finished?.errorMessage ?? "unknown error")"
            }
        }
        FaultPoint.reach(.imageBeforeAvailable)
        image.state = failure == nil ? .available : .failed
        image.stateReason = failure
        do throws(SnaplabError) {
            if failure == nil { try await publish(image) }
            image = try await catalog.transition(MachineImage.self, image.id, to: image.state) { [failure] row in
                row.stateReason = failure
            }
        } catch {
            logger.error(
                "cannot record the image's end", metadata: ["image": "\(image.id)", "error": "\(error.message)"])
        }
        return image
    }

    /// Deregisters an image: it can no longer launch instances; its snapshots stay (and can now be deleted);
    /// base volumes nothing uses any more are removed.
    public func deregister(_ id: String) async throws(SnaplabError) -> MachineImage {
        var image = try await catalog.image(id)
        guard image.state != .deregistered else { return image }
        if image.state == .pending {
            throw SnaplabError(
                .invalidState, "image \(id) is still pending; deregister it once its snapshots are copied")
        }
        image = try await catalog.transition(MachineImage.self, id, to: .deregistered)
        try await store.deleteImageDocument(id)
        for snapshotId in image.snapshotIds { await bases.releaseIfUnused(snapshotId) }
        return image
    }

    public func list() async throws(SnaplabError) -> [MachineImage] {
        try await catalog.images()
    }

    public func get(_ id: String) async throws(SnaplabError) -> MachineImage {
        try await catalog.image(id)
    }

    /// An image by id, or the newest available one of that name.
    public func resolve(_ reference: String) async throws(SnaplabError) -> MachineImage {
        if reference.hasPrefix("ami-") { return try await catalog.image(reference) }
        guard let image = try await catalog.newestImage(named: reference) else {
            throw SnaplabError(
                .notFound, "no available image named '\(reference)'; `snaplab image list` shows the images")
        }
        return image
    }

    /// The file's digest once in the store; "" for none (an image booted by firmware alone).
    private func putBootFile(_ path: String) async throws(SnaplabError) -> String {
        if path.isEmpty { return "" }
        guard let data = await BlockingPool.run({ FileManager.default.contents(atPath: path) }) else {
            throw SnaplabError(.notFound, "boot file \(path) cannot be read; pass --kernel/--initrd")
        }
        return try await store.putArtifact(data)
    }

    private func publish(_ image: MachineImage) async throws(SnaplabError) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        guard let data = try? encoder.encode(image) else {
            throw SnaplabError(.internal, "cannot encode image \(image.id)")
        }
        try await store.putImageDocument(image.id, data)
    }
}
