import Blocking
import Foundation
import Libvirt
import Logging

/// Instances: libvirt domains booting a boot volume with data volumes, their lifecycle, console and agent.
public final class InstanceService: Sendable {
    let logger = Logger(label: "snaplab.instances")
    let catalog: Catalog
    let paths: LabPaths
    let hosts: HostService
    let states: InstanceStates
    let tracking: ChangeTracking
    let copies: SnapshotCopies
    let bases: BaseService
    let lazy: LazyVolumes
    let background: BackgroundWork

    init(
        catalog: Catalog, paths: LabPaths, hosts: HostService, states: InstanceStates, tracking: ChangeTracking,
        copies: SnapshotCopies, bases: BaseService, lazy: LazyVolumes, background: BackgroundWork
    ) {
        self.catalog = catalog
        self.paths = paths
        self.hosts = hosts
        self.states = states
        self.tracking = tracking
        self.copies = copies
        self.bases = bases
        self.lazy = lazy
        self.background = background
    }

    /// Launches an instance from a boot volume and data volumes; returns once the guest printed `ready` (or,
    /// unless asked to wait, once its domain started).
    public func run(_ request: LaunchRequest) async throws(SnaplabError) -> Instance {
        let launched = try await launch(request)
        guard request.waitUntilReady else { return launched.instance }
        return try await awaitBoot(
            launched.instance, hypervisor: launched.hypervisor, events: launched.events,
            logOffset: 0, timeout: request.readyTimeout)
    }

    /// A domain started for an instance, before its guest is ready.
    struct LaunchedInstance: Sendable {
        var instance: Instance
        var hypervisor: Hypervisor
        var events: AsyncStream<DomainEvent>
    }

    /// Records the instance with its volumes, defines its domain and starts it.
    func launch(_ request: LaunchRequest) async throws(SnaplabError) -> LaunchedInstance {
        try request.validate()
        let bootVolume = try await catalog.volume(request.bootVolumeId)
        guard bootVolume.role == .boot else {
            throw SnaplabError(
                .invalidArgument,
                "volume \(bootVolume.id) is a \(bootVolume.role.rawValue) volume; boot from a boot volume")
        }
        var attachments = [
            VolumeAttachment(
                volumeId: bootVolume.id, device: "vda",
                deleteOnTermination: request.deleteBootOnTermination)
        ]
        var disks = [
            DomainXML.Disk(
                path: bootVolume.path, device: "vda", serial: bootVolume.id, stopOnError: bootVolume.lazy != nil)
        ]
        for (index, wanted) in request.dataVolumes.enumerated() {
            let volume = try await catalog.volume(wanted.volumeId)
            guard volume.role == .data else {
                throw SnaplabError(.invalidArgument, "volume \(volume.id) is a boot volume; attach data volumes only")
            }
            guard volume.host == bootVolume.host else {
                throw SnaplabError(
                    .invalidArgument,
                    "volume \(volume.id) is on host \(volume.host), the boot volume on \(bootVolume.host)")
            }
            let device = LaunchRequest.dataDevice(index)
            attachments.append(
                VolumeAttachment(
                    volumeId: volume.id, device: device,
                    deleteOnTermination: wanted.deleteOnTermination))
            disks.append(
                DomainXML.Disk(path: volume.path, device: device, serial: volume.id, stopOnError: volume.lazy != nil))
        }
        guard var boot = request.bootOverride ?? bootVolume.boot else {
            throw SnaplabError(
                .invalidArgument,
                "boot volume \(bootVolume.id) records no kernel to boot; pass --kernel, --initrd and --cmdline")
        }
        if let firmware = request.firmware { boot = try boot.booting(with: firmware) }
        for file in [boot.kernel, boot.initrd] where boot.isDirect && !FileManager.default.fileExists(atPath: file) {
            throw SnaplabError(
                .notFound, "boot file \(file) is missing; rebuild the boot volume or pass --kernel/--initrd")
        }
        if boot.bootFirmware == .uefi, !FileManager.default.fileExists(atPath: DomainXML.uefiCode) {
            throw SnaplabError(
                .notFound, "UEFI firmware \(DomainXML.uefiCode) is missing; install the Debian package ovmf")
        }
        try request.customization?.validate()

        try await copies.checkNotCopying(attachments.map(\.volumeId), action: "attached to a new instance")
        if bootVolume.lazy != nil || disks.contains(where: \.stopOnError) { try await lazy.launcher.ensureRunning() }
        let host = try await catalog.host(named: bootVolume.host)
        let hypervisor = try await hosts.hypervisor(for: host)
        let id = ResourceID.generate(.instance)
        let console = ConsoleLog(path: paths.console(of: id).path)
        var instance = Instance(
            id: id, host: host.name, state: .pending, memoryMiB: request.memoryMiB,
            vcpus: request.vcpus, boot: boot, fsck: request.fsck, consolePath: console.path,
            tags: request.tags)
        instance.imageId = request.imageId
        instance.sshPort = try LoopbackPort.free()
        var seed: URL?
        if let customization = request.customization {
            let path = NoCloudSeed.path(of: id, in: paths)
            try Directories.create(path.deletingLastPathComponent())
            try await NoCloudSeed(instanceId: id, customization: customization).write(to: path)
            seed = path
        }
        let files = try await RemoteHostFiles.place(
            boot: boot, seed: seed, instanceId: id, consolePath: console.path, on: host, hypervisor: hypervisor)
        try await catalog.insert(instance, attaching: attachments)
        let xml = DomainXML(
            name: instance.domainName, memoryMiB: request.memoryMiB, vcpus: request.vcpus,
            firmware: boot.bootFirmware, kernel: files.kernel, initrd: files.initrd,
            cmdline: Self.kernelCommandLine(boot: boot, instance: instance),
            disks: disks, seedPath: files.seed, sshPort: instance.sshPort, consolePath: files.console,
            labStateDirectory: paths.stateDirectory.path
        ).render()
        let events: AsyncStream<DomainEvent>
        do throws(SnaplabError) {
            events = try await hypervisor.lifecycleEvents()
            try await hypervisor.defineDomain(xml: xml, name: instance.domainName)
            request.timings?.record("defined")
            await tracking.adopt(instance: instance, hypervisor: hypervisor)
            console.markBootRequested()
            try await hypervisor.startDomain(name: instance.domainName)
            request.timings?.record("started")
        } catch {
            // Nothing ran: undo the definition and the catalog rows so the failed launch changes nothing.
            await logger.bestEffort("hypervisor.undefineDomain") {
                try await hypervisor.undefineDomain(name: instance.domainName)
            }
            await logger.bestEffort("catalog.abandonLaunch") { try await catalog.abandonLaunch(id) }
            logger.bestEffort("removeItem") { try FileManager.default.removeItem(atPath: console.path) }
            if let seed { try? FileManager.default.removeItem(at: seed) }
            throw error
        }
        return LaunchedInstance(instance: instance, hypervisor: hypervisor, events: events)
    }

    /// Powers an instance off: asks the guest (agent, else ACPI), and pulls the plug after `timeout`
    /// (or at once with `force`). Unless asked to wait, returns at once (`stopping`) and stops in the background.
    public func stop(
        _ id: String, force: Bool = false, timeout: Duration = .seconds(120),
        wait: Bool = true
    ) async throws(SnaplabError) -> Instance {
        let instance = try await states.refreshed(id)
        if instance.state == .stopped || instance.state == .stopping { return instance }
        try await copies.checkNotCopying(try await catalog.volumes(attachedTo: id).map(\.id), action: "stopped")
        let stopping = try await catalog.transitionInstance(id, to: .stopping)
        let hypervisor = try await hosts.hypervisor(named: instance.host)
        let finish = { @Sendable () async throws(SnaplabError) -> Instance in
            let reason = try await self.powerOff(instance, hypervisor: hypervisor, force: force, timeout: timeout)
            return try await self.catalog.transitionInstance(id, to: .stopped, reason: reason)
        }
        guard wait else {
            let logger = self.logger
            background.submit("stop \(id)") {
                do throws(SnaplabError) { _ = try await finish() } catch {
                    logger.error(
                        "stopping an instance failed", metadata: ["instance": "\(id)", "error": "\(error.message)"])
                }
            }
            return stopping
        }
        return try await finish()
    }

    /// Boots a stopped instance again; returns once the guest printed `ready` (or, unless asked to wait, once
    /// its domain started: `pending`).
    public func start(_ id: String, readyTimeout: Duration = .seconds(300), waitUntilReady: Bool = true)
        async throws(SnaplabError) -> Instance
    {
        let instance = try await states.refreshed(id)
        if instance.state == .running { return instance }
        let attached = try await catalog.volumes(attachedTo: id)
        try await copies.checkNotCopying(attached.map(\.id), action: "started")
        if attached.contains(where: { $0.lazy != nil }) { try await lazy.launcher.ensureRunning() }
        try await catalog.transitionInstance(id, to: .pending)
        let hypervisor = try await hosts.hypervisor(named: instance.host)
        let console = ConsoleLog(path: instance.consolePath)
        console.markBootRequested()
        let offset = console.endOffset()
        let events = try await hypervisor.lifecycleEvents()
        do throws(SnaplabError) {
            try await hypervisor.startDomain(name: instance.domainName)
        } catch {
            await logger.bestEffort("catalog.transitionInstance") {
                _ = try await catalog.transitionInstance(id, to: .stopped, reason: "start failed: \(error.message)")
            }
            throw error
        }
        guard waitUntilReady else { return try await catalog.instance(id) }
        return try await awaitBoot(
            instance, hypervisor: hypervisor, events: events, logOffset: offset,
            timeout: readyTimeout)
    }

    /// Removes an instance: its domain goes, its boot volume goes (unless kept), its data volumes stay unless
    /// they were marked delete-on-termination or `deleteDataVolumes` says so.
    public func terminate(_ id: String, deleteDataVolumes: Bool = false, keepBootVolume: Bool = false)
        async throws(SnaplabError) -> Instance
    {
        let instance = try await catalog.instance(id)
        if instance.state == .terminated { return instance }
        try await copies.checkNotCopying(try await catalog.volumes(attachedTo: id).map(\.id), action: "terminated")
        try await catalog.transitionInstance(id, to: .shuttingDown)
        let host = try await catalog.host(named: instance.host)
        let hypervisor = try await hosts.hypervisor(for: host)
        try await hypervisor.destroyDomain(name: instance.domainName)
        try await hypervisor.undefineDomain(name: instance.domainName)
        try await catalog.setDeleteOnTermination(
            instance: id, data: deleteDataVolumes ? true : nil,
            boot: keepBootVolume ? false : nil)
        try? FileManager.default.removeItem(at: NoCloudSeed.path(of: id, in: paths))
        if !host.isOnThisMachine {
            await logger.bestEffort("hypervisor.deleteVolume") {
                try await hypervisor.deleteVolume(pool: host.poolName, name: RemoteHostFiles.seedVolume(of: id))
            }
        }
        let doomed = try await catalog.finishTermination(id)
        for volume in doomed {
            try await hypervisor.deleteVolume(pool: host.poolName, name: volume.poolVolume)
            try await catalog.deleteVolume(volume.id)
            if let base = volume.baseSnapshotId { await bases.releaseIfUnused(base) }
        }
        return try await catalog.instance(id)
    }

    public func list() async throws(SnaplabError) -> [Instance] {
        var result: [Instance] = []
        for instance in try await catalog.instances() {
            result.append(try await states.refreshed(instance))
        }
        return result
    }

    /// The instance with its state reconciled against libvirt.
    public func get(_ id: String) async throws(SnaplabError) -> Instance {
        try await states.refreshed(id)
    }

    /// The instance, its volumes and the markers of its latest boot.
    public func describe(_ id: String) async throws(SnaplabError) -> InstanceDescription {
        let instance = try await states.refreshed(id)
        let volumes = try await catalog.volumes(attachedTo: id)
        let console = ConsoleLog(path: instance.consolePath)
        let markers = await BlockingPool.run { console.latestBootMarkers() }
        return InstanceDescription(
            instance: instance, volumes: volumes, bootMarkers: markers,
            hydrations: try await lazy.hydrations(of: volumes))
    }

    /// The serial console log (every boot, oldest first).
    public func console(_ id: String) async throws(SnaplabError) -> String {
        let instance = try await catalog.instance(id)
        let console = ConsoleLog(path: instance.consolePath)
        return await BlockingPool.run { console.text() }
    }

    /// The console as the guest prints it from now on, through libvirt (on any host, also one on another
    /// machine, whose console file the controller cannot read), until `onOutput` returns false.
    public func followConsole(_ id: String, onOutput: @escaping @Sendable (Data) -> Bool) async throws(SnaplabError) {
        let instance = try await states.refreshed(id)
        guard instance.state == .running || instance.state == .pending else {
            throw SnaplabError(
                .invalidState,
                "instance \(id) is \(instance.state.rawValue); `instance console` without --follow shows its log")
        }
        let hypervisor = try await hosts.hypervisor(named: instance.host)
        try await hypervisor.followConsole(domain: instance.domainName, onOutput: onOutput)
    }

    /// Runs a program in a running instance through the guest agent.
    public func exec(_ id: String, _ arguments: [String], input: Data? = nil, timeout: Duration = .seconds(120))
        async throws(SnaplabError) -> ExecResult
    {
        let instance = try await states.refreshed(id)
        guard instance.state == .running else {
            throw SnaplabError(
                .invalidState, "instance \(id) is \(instance.state.rawValue); start it before running commands in it")
        }
        let hypervisor = try await hosts.hypervisor(named: instance.host)
        return try await GuestAgent(hypervisor: hypervisor, domain: instance.domainName)
            .exec(arguments, input: input, timeout: timeout)
    }

    /// Waits until every instance printed `ready` (from its console markers); fails with the console tail of one
    /// that stopped or did not make it in time.
    public func waitUntilRunning(_ ids: [String], timeout: Duration) async throws(SnaplabError) -> [Instance] {
        let deadline = ContinuousClock.now + timeout
        var pending = Set(ids)
        var done: [String: Instance] = [:]
        while !pending.isEmpty {
            for id in pending {
                let instance = try await states.refreshed(id)
                switch instance.state {
                case .running:
                    done[id] = instance
                    pending.remove(id)
                case .pending:
                    break
                default:
                    throw SnaplabError(
                        .guest,
                        "instance \(id) is \(instance.state.rawValue) instead of booting. Console tail:\n\(ConsoleLog(path: instance.consolePath).tail())"
                    )
                }
            }
            if pending.isEmpty { break }
            if ContinuousClock.now >= deadline, let id = pending.first {
                let instance = try await catalog.instance(id)
                throw SnaplabError(
                    .timeout,
                    "instance \(id) did not print `ready` within \(timeout). Console tail:\n\(ConsoleLog(path: instance.consolePath).tail())"
                )
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return ids.compactMap { done[$0] }
    }

    static func kernelCommandLine(boot: BootSettings, instance: Instance) -> String {
        // snaplab.fsck for the tiny image's initramfs, fsck.mode for initramfs-tools and systemd.
        "\(boot.cmdline) snaplab.fsck=\(instance.fsck.rawValue) fsck.mode=\(instance.fsck.rawValue) snaplab.hostname=\(instance.id)"
    }
}

/// `instance describe`: the instance, its attached volumes and its latest boot's phase markers.
public struct InstanceDescription: Sendable, Codable {
    public var instance: Instance
    public var volumes: [Volume]
    public var bootMarkers: [BootMarker]
    /// Its lazy volumes' hydration (empty once every volume sits on a local base).
    public var hydrations: [Hydration]
}
