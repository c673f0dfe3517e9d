import Foundation

/// What `instance run --image` asks for (EC2 RunInstances).
public struct ImageLaunchRequest: Sendable {
    /// An image id, or a name (the newest available image of that name).
    public var image: String
    public var count: Int
    public var memoryMiB: Int?
    public var vcpus: Int?
    public var fsck: FsckMode
    /// Per device (`vdb`…): take the data disk from this snapshot instead of the image's mapping.
    public var dataSnapshots: [String: String]
    /// Per device: a new empty disk of this size instead of the image's mapping.
    public var emptyDataSizes: [String: UInt64]
    public var tags: [String: String]
    public var readyTimeout: Duration
    public var waitUntilReady: Bool
    /// Records host-side instants of the (single) launch, for measurement.
    public var timings: LaunchTimings?
    /// The host to launch on; nil: the one running the fewest instances.
    public var host: String?
    /// Boot at once from the snapshots' block exports while their bases hydrate in the background (true),
    /// wait for the bases first (false), or (nil) lazily when the host has no base of the boot snapshot yet.
    public var lazy: Bool?
    /// Bounds the background hydration of a lazy launch, in bytes of the volume per second.
    public var pullRate: UInt64?
    /// Boot by this instead of the image's own firmware (direct needs an image that knows its kernel).
    public var firmware: Firmware?
    /// User data and ssh keys for cloud-init in each instance.
    public var customization: GuestCustomization?

    public init(
        image: String, count: Int = 1, memoryMiB: Int? = nil, vcpus: Int? = nil, fsck: FsckMode = .auto,
        dataSnapshots: [String: String] = [:], emptyDataSizes: [String: UInt64] = [:],
        tags: [String: String] = [:],
        readyTimeout: Duration = .seconds(300), waitUntilReady: Bool = true, lazy: Bool? = nil
    ) {
        self.image = image
        self.count = count
        self.memoryMiB = memoryMiB
        self.vcpus = vcpus
        self.fsck = fsck
        self.dataSnapshots = dataSnapshots
        self.emptyDataSizes = emptyDataSizes
        self.tags = tags
        self.readyTimeout = readyTimeout
        self.waitUntilReady = waitUntilReady
        self.lazy = lazy
    }
}

extension ImageService {
    /// Launches `count` instances of an image. The first launch on a host restores the image's snapshots into
    /// read-only base volumes (once); every instance's volumes are copy-on-write overlays on them, made in
    /// milliseconds, so its writes never reach the base or a sibling. All boot together; returns once every one
    /// is ready (or started, unless asked to wait).
    public func launch(_ request: ImageLaunchRequest) async throws(SnaplabError) -> [Instance] {
        guard (1...20).contains(request.count) else {
            throw SnaplabError(.invalidArgument, "count must be between 1 and 20; got \(request.count)")
        }
        let image = try await resolve(request.image)
        guard image.state == .available else {
            throw SnaplabError(
                .invalidState, "image \(image.id) is \(image.state.rawValue); it cannot launch instances")
        }
        for device in Set(request.dataSnapshots.keys).union(request.emptyDataSizes.keys)
        where !image.blockDeviceMappings.contains(where: { $0.device == device }) {
            throw SnaplabError(.invalidArgument, "image \(image.id) has no data disk \(device)")
        }
        let host = try await hosts.placement(request.host)
        var boot = try await bases.bootFiles(of: image)
        if let firmware = request.firmware { boot = try boot.booting(with: firmware) }
        let lazily = try await launchesLazily(request, image: image, host: host)
        let bootBase = try await diskSource(image.bootSnapshotId, host: host, lazily: lazily)
        var dataBases: [String: DiskSource] = [:]
        for mapping in image.blockDeviceMappings where request.emptyDataSizes[mapping.device] == nil {
            if let snapshotId = request.dataSnapshots[mapping.device] ?? mapping.snapshotId {
                dataBases[mapping.device] = try await diskSource(snapshotId, host: host, lazily: lazily)
            }
        }

        var launched: [InstanceService.LaunchedInstance] = []
        do throws(SnaplabError) {
            for _ in 0..<request.count {
                launched.append(
                    try await launchOne(
                        image, request: request, host: host, boot: boot,
                        bootBase: bootBase, dataBases: dataBases))
            }
        } catch {
            for instance in launched {
                await logger.bestEffort("terminating \(instance.instance.id) after the failed launch") {
                    _ = try await self.instances.terminate(instance.instance.id, deleteDataVolumes: true)
                }
            }
            throw error
        }
        guard request.waitUntilReady else { return launched.map(\.instance) }
        var ready: [Instance] = []
        var failure: SnaplabError?
        let instances = self.instances
        await withTaskGroup(of: Result<Instance, SnaplabError>.self) { group in
            for one in launched {
                group.addTask {
                    do throws(SnaplabError) {
                        return .success(
                            try await instances.awaitBoot(
                                one.instance, hypervisor: one.hypervisor,
                                events: one.events, logOffset: 0,
                                timeout: request.readyTimeout))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            for await result in group {
                switch result {
                case .success(let instance): ready.append(instance)
                case .failure(let error): failure = failure ?? error
                }
            }
        }
        if let failure { throw failure }
        let order = launched.map(\.instance.id)
        return ready.sorted { (order.firstIndex(of: $0.id) ?? 0) < (order.firstIndex(of: $1.id) ?? 0) }
    }

    /// Hydrates an image's bases and fetches its boot files on this host ahead of time, so that launches (and
    /// measurements of them) do not include that one-time work.
    public func prepareLaunch(image reference: String, host hostName: String? = nil) async throws(SnaplabError) {
        let image = try await resolve(reference)
        let host = try await hosts.host(hostName)
        _ = try await bases.bootFiles(of: image)
        for snapshotId in image.snapshotIds { _ = try await bases.ensure(snapshotId: snapshotId, host: host) }
    }

    /// Where an instance's disk of an image comes from: an overlay on the snapshot's hydrated base, or (lazy) on
    /// the snapshot's block export.
    enum DiskSource: Sendable {
        case base(BaseVolume)
        case export(snapshotId: String)
    }

    private func launchesLazily(_ request: ImageLaunchRequest, image: MachineImage, host: Host)
        async throws(SnaplabError) -> Bool
    {
        if let lazy = request.lazy { return lazy }
        guard LazyVolumes.canServe(host) else { return false }
        return try await catalog.base(snapshot: image.bootSnapshotId, host: host.name)?.state != .ready
    }

    /// A lazy launch still uses a base that is ready; otherwise it reads from the export.
    private func diskSource(_ snapshotId: String, host: Host, lazily: Bool) async throws(SnaplabError)
        -> DiskSource
    {
        if lazily {
            if let base = try await catalog.base(snapshot: snapshotId, host: host.name), base.state == .ready {
                return .base(base)
            }
            return .export(snapshotId: snapshotId)
        }
        return .base(try await bases.ensure(snapshotId: snapshotId, host: host))
    }

    private func disk(
        from source: DiskSource, role: VolumeRole, host: Host, boot: BootSettings?, image: MachineImage,
        pullRate: UInt64?
    ) async throws(SnaplabError) -> Volume {
        switch source {
        case .base(let base):
            return try await overlay(on: base, role: role, host: host, boot: boot, image: image)
        case .export(let snapshotId):
            return try await lazy.provision(
                snapshotId: snapshotId, role: role, host: host, boot: boot,
                origin: "image \(image.id) (\(snapshotId), lazy)", pullRate: pullRate)
        }
    }

    private func launchOne(
        _ image: MachineImage, request: ImageLaunchRequest, host: Host, boot: BootSettings,
        bootBase: DiskSource, dataBases: [String: DiskSource]
    ) async throws(SnaplabError)
        -> InstanceService.LaunchedInstance
    {
        var created: [Volume] = []
        do throws(SnaplabError) {
            created.append(
                try await disk(
                    from: bootBase, role: .boot, host: host, boot: boot, image: image, pullRate: request.pullRate))
            var data: [LaunchRequest.DataVolume] = []
            for mapping in image.blockDeviceMappings {
                let volume: Volume
                if let base = dataBases[mapping.device] {
                    volume = try await disk(
                        from: base, role: .data, host: host, boot: nil, image: image, pullRate: request.pullRate)
                } else {
                    volume = try await volumes.create(
                        role: .data,
                        size: request.emptyDataSizes[mapping.device] ?? mapping.size ?? (1 << 30),
                        host: host.name)
                }
                created.append(volume)
                data.append(
                    LaunchRequest.DataVolume(volumeId: volume.id, deleteOnTermination: mapping.deleteOnTermination))
            }
            var launch = LaunchRequest(
                bootVolumeId: created[0].id, dataVolumes: data,
                memoryMiB: request.memoryMiB ?? image.memoryMiB,
                vcpus: request.vcpus ?? image.vcpus, fsck: request.fsck,
                deleteBootOnTermination: true, tags: request.tags,
                readyTimeout: request.readyTimeout)
            launch.waitUntilReady = false
            launch.imageId = image.id
            launch.timings = request.timings
            launch.customization = request.customization
            return try await instances.launch(launch)
        } catch {
            for volume in created {
                await logger.bestEffort("deleting \(volume.id) after the failed launch") {
                    try await volumes.delete(volume.id)
                }
            }
            throw error
        }
    }

    /// A copy-on-write qcow2 on a base volume: created in milliseconds whatever the base's size.
    func overlay(
        on base: BaseVolume, role: VolumeRole, host: Host, boot: BootSettings?, image: MachineImage,
        tags: [String: String] = [:], origin: String? = nil
    ) async throws(SnaplabError) -> Volume {
        try await volumes.provision(
            role: role, size: base.size, host: host, tags: tags, boot: boot,
            origin: origin ?? "image \(image.id) (\(base.snapshotId))",
            baseSnapshotId: base.snapshotId
        ) {
            (hypervisor: Hypervisor, id: String) async throws(SnaplabError) in
            try await hypervisor.createVolume(
                pool: host.poolName, name: VolumeService.poolVolumeName(id), capacity: base.size,
                backingPath: base.path)
        }
    }
}
