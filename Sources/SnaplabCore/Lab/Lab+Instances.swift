import Foundation
import Libvirt

extension Lab {
    /// Launches an instance from a boot volume and data volumes; returns once the guest printed `ready` (or,
    /// unless asked to wait, once its domain started).
    public func runInstance(_ request: LaunchRequest) async throws(SnaplabError) -> Instance {
        let launched = try await launch(request)
        guard request.waitUntilReady else { return launched.instance }
        return try await awaitBoot(launched.instance, hypervisor: launched.hypervisor, events: launched.events,
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
            throw SnaplabError(.invalidArgument, "volume \(bootVolume.id) is a \(bootVolume.role.rawValue) volume; boot from a boot volume")
        }
        var attachments = [VolumeAttachment(volumeId: bootVolume.id, device: "vda",
                                            deleteOnTermination: request.deleteBootOnTermination)]
        var disks = [DomainXML.Disk(path: bootVolume.path, device: "vda", serial: bootVolume.id)]
        for (index, wanted) in request.dataVolumes.enumerated() {
            let volume = try await catalog.volume(wanted.volumeId)
            guard volume.role == .data else {
                throw SnaplabError(.invalidArgument, "volume \(volume.id) is a boot volume; attach data volumes only")
            }
            guard volume.host == bootVolume.host else {
                throw SnaplabError(.invalidArgument, "volume \(volume.id) is on host \(volume.host), the boot volume on \(bootVolume.host)")
            }
            let device = LaunchRequest.dataDevice(index)
            attachments.append(VolumeAttachment(volumeId: volume.id, device: device,
                                                deleteOnTermination: wanted.deleteOnTermination))
            disks.append(DomainXML.Disk(path: volume.path, device: device, serial: volume.id))
        }
        guard let boot = request.bootOverride ?? bootVolume.boot else {
            throw SnaplabError(.invalidArgument, "boot volume \(bootVolume.id) records no kernel to boot; pass --kernel, --initrd and --cmdline")
        }
        for file in [boot.kernel, boot.initrd] where !FileManager.default.fileExists(atPath: file) {
            throw SnaplabError(.notFound, "boot file \(file) is missing; rebuild the boot volume or pass --kernel/--initrd")
        }

        try await checkNoSnapshotCopying(attachments.map(\.volumeId), action: "attached to a new instance")
        let host = try await catalog.host(named: bootVolume.host)
        let hypervisor = try await hypervisor(for: host)
        let id = ResourceID.generate(.instance)
        let console = ConsoleLog(path: paths.console(of: id).path)
        var instance = Instance(id: id, host: host.name, state: .pending, memoryMiB: request.memoryMiB,
                                vcpus: request.vcpus, boot: boot, fsck: request.fsck, consolePath: console.path,
                                tags: request.tags)
        instance.imageId = request.imageId
        try await catalog.insert(instance, attaching: attachments)
        let xml = DomainXML(name: instance.domainName, memoryMiB: request.memoryMiB, vcpus: request.vcpus,
                            kernel: boot.kernel, initrd: boot.initrd,
                            cmdline: Self.kernelCommandLine(boot: boot, instance: instance),
                            disks: disks, consolePath: console.path,
                            labStateDirectory: paths.stateDirectory.path).render()
        let events: AsyncStream<DomainEvent>
        do throws(SnaplabError) {
            events = try await hypervisor.lifecycleEvents()
            try await hypervisor.defineDomain(xml: xml, name: instance.domainName)
            request.timings?.record("defined")
            await adoptChangeTracking(instance: instance, hypervisor: hypervisor)
            console.markBootRequested()
            try await hypervisor.startDomain(name: instance.domainName)
            request.timings?.record("started")
        } catch {
            // Nothing ran: undo the definition and the catalog rows so the failed launch changes nothing.
            try? await hypervisor.undefineDomain(name: instance.domainName)
            try? await catalog.abandonLaunch(id)
            try? FileManager.default.removeItem(atPath: console.path)
            throw error
        }
        return LaunchedInstance(instance: instance, hypervisor: hypervisor, events: events)
    }

    /// Powers an instance off: asks the guest (agent, else ACPI), and pulls the plug after `timeout`
    /// (or at once with `force`). Unless asked to wait, returns at once (`stopping`) and stops in the background.
    public func stopInstance(_ id: String, force: Bool = false, timeout: Duration = .seconds(120),
                             wait: Bool = true) async throws(SnaplabError) -> Instance
    {
        let instance = try await refreshedInstance(id)
        if instance.state == .stopped || instance.state == .stopping { return instance }
        try await checkNoSnapshotCopying(try await catalog.volumes(attachedTo: id).map(\.id), action: "stopped")
        let stopping = try await catalog.transitionInstance(id, to: .stopping)
        let hypervisor = try await hypervisor(forHostNamed: instance.host)
        let finish = { () async throws(SnaplabError) -> Instance in
            let reason = try await self.powerOff(instance, hypervisor: hypervisor, force: force, timeout: timeout)
            return try await self.catalog.transitionInstance(id, to: .stopped, reason: reason)
        }
        guard wait else {
            Task { _ = try? await finish() }
            return stopping
        }
        return try await finish()
    }

    /// Boots a stopped instance again; returns once the guest printed `ready` (or, unless asked to wait, once
    /// its domain started: `pending`).
    public func startInstance(_ id: String, readyTimeout: Duration = .seconds(300), waitUntilReady: Bool = true)
        async throws(SnaplabError) -> Instance
    {
        let instance = try await refreshedInstance(id)
        if instance.state == .running { return instance }
        try await checkNoSnapshotCopying(try await catalog.volumes(attachedTo: id).map(\.id), action: "started")
        try await catalog.transitionInstance(id, to: .pending)
        let hypervisor = try await hypervisor(forHostNamed: instance.host)
        let console = ConsoleLog(path: instance.consolePath)
        console.markBootRequested()
        let offset = console.endOffset()
        let events = try await hypervisor.lifecycleEvents()
        do throws(SnaplabError) {
            try await hypervisor.startDomain(name: instance.domainName)
        } catch {
            _ = try? await catalog.transitionInstance(id, to: .stopped, reason: "start failed: \(error.message)")
            throw error
        }
        guard waitUntilReady else { return try await catalog.instance(id) }
        return try await awaitBoot(instance, hypervisor: hypervisor, events: events, logOffset: offset,
                                   timeout: readyTimeout)
    }

    /// Removes an instance: its domain goes, its boot volume goes (unless kept), its data volumes stay unless
    /// they were marked delete-on-termination or `deleteDataVolumes` says so.
    public func terminateInstance(_ id: String, deleteDataVolumes: Bool = false, keepBootVolume: Bool = false)
        async throws(SnaplabError) -> Instance
    {
        let instance = try await catalog.instance(id)
        if instance.state == .terminated { return instance }
        try await checkNoSnapshotCopying(try await catalog.volumes(attachedTo: id).map(\.id), action: "terminated")
        try await catalog.transitionInstance(id, to: .shuttingDown)
        let host = try await catalog.host(named: instance.host)
        let hypervisor = try await hypervisor(for: host)
        try await hypervisor.destroyDomain(name: instance.domainName)
        try await hypervisor.undefineDomain(name: instance.domainName)
        try await catalog.setDeleteOnTermination(instance: id, data: deleteDataVolumes ? true : nil,
                                                 boot: keepBootVolume ? false : nil)
        let doomed = try await catalog.finishTermination(id)
        for volume in doomed {
            try await hypervisor.deleteVolume(pool: host.poolName, name: volume.poolVolume)
            try await catalog.deleteVolume(volume.id)
            if let base = volume.baseSnapshotId { await releaseBaseIfUnused(base) }
        }
        return try await catalog.instance(id)
    }

    public func instances() async throws(SnaplabError) -> [Instance] {
        var result: [Instance] = []
        for instance in try await catalog.instances() {
            result.append(try await refreshed(instance))
        }
        return result
    }

    /// The instance with its state reconciled against libvirt.
    public func refreshedInstance(_ id: String) async throws(SnaplabError) -> Instance {
        try await refreshed(try await catalog.instance(id))
    }

    /// The instance, its volumes and the markers of its latest boot.
    public func describeInstance(_ id: String) async throws(SnaplabError) -> InstanceDescription {
        let instance = try await refreshedInstance(id)
        let volumes = try await catalog.volumes(attachedTo: id)
        let markers = ConsoleLog(path: instance.consolePath).latestBootMarkers()
        return InstanceDescription(instance: instance, volumes: volumes, bootMarkers: markers)
    }

    /// The serial console log (every boot, oldest first).
    public func consoleText(_ id: String) async throws(SnaplabError) -> String {
        let instance = try await catalog.instance(id)
        return ConsoleLog(path: instance.consolePath).text()
    }

    /// Runs a program in a running instance through the guest agent.
    public func exec(_ id: String, _ arguments: [String], input: Data? = nil, timeout: Duration = .seconds(120))
        async throws(SnaplabError) -> ExecResult
    {
        let instance = try await refreshedInstance(id)
        guard instance.state == .running else {
            throw SnaplabError(.invalidState, "instance \(id) is \(instance.state.rawValue); start it before running commands in it")
        }
        let hypervisor = try await hypervisor(forHostNamed: instance.host)
        return try await GuestAgent(hypervisor: hypervisor, domain: instance.domainName)
            .exec(arguments, input: input, timeout: timeout)
    }

    /// A snapshot being copied reads its volume (through a backup job or qemu-nbd) until it completes.
    func checkNoSnapshotCopying(_ volumeIds: [String], action: String) async throws(SnaplabError) {
        try await recoverInterruptedSnapshots()
        if let busy = try await catalog.pendingSnapshots(of: volumeIds).first {
            throw SnaplabError(.invalidState, "volume \(busy.volumeId) is being snapshotted (\(busy.id), \(Int(busy.progress))%); it can be \(action) once that copy finishes (`snaplab snapshot describe \(busy.id)`)")
        }
    }

    /// Tells a freshly defined domain about the bitmaps its volumes already carry from earlier snapshots, so
    /// their next snapshot while running can be incremental.
    func adoptChangeTracking(instance: Instance, hypervisor: Hypervisor) async {
        let attached = (try? await catalog.volumes(attachedTo: instance.id)) ?? []
        let allDevices = attached.compactMap(\.device)
        var devicesByBase: [String: [String]] = [:]
        for volume in attached {
            guard let base = volume.cbtBase, let device = volume.device,
                  let bitmaps = try? await QemuImg.bitmaps(of: volume.path),
                  bitmaps.contains(where: { $0.name == base && $0.isConsistent })
            else { continue }
            devicesByBase[base, default: []].append(device)
        }
        for (base, devices) in devicesByBase {
            try? await hypervisor.redefineCheckpoint(
                domain: instance.domainName,
                checkpoint: CheckpointXML(name: base, devices: devices, allDevices: allDevices,
                                          creationTime: Int(Date().timeIntervalSince1970)))
        }
    }

    static func kernelCommandLine(boot: BootSettings, instance: Instance) -> String {
        "\(boot.cmdline) snaplab.fsck=\(instance.fsck.rawValue) snaplab.hostname=\(instance.id)"
    }

    /// A running instance whose domain is gone or off (the guest powered itself off, or someone destroyed it)
    /// is recorded as stopped.
    func refreshed(_ instance: Instance) async throws(SnaplabError) -> Instance {
        guard [.running, .pending, .stopping].contains(instance.state) else { return instance }
        let hypervisor = try await hypervisor(forHostNamed: instance.host)
        let state = try await hypervisor.domainState(name: instance.domainName)
        let off = state == nil || state == .shutoff || state == .crashed
        if instance.state == .stopping {
            // Its stopper (maybe another process, maybe gone) has not recorded the end yet.
            guard off else { return instance }
            return try await catalog.transitionInstance(instance.id, to: .stopped, reason: instance.stateReason)
        }
        if instance.state == .pending {
            // Launched or started without waiting: running once the latest boot said ready; stopped if its
            // domain went away before that.
            let console = ConsoleLog(path: instance.consolePath)
            if state == .running, console.latestBootMarkers().contains(where: { $0.phase == "ready" }) {
                return try await catalog.transitionInstance(instance.id, to: .running, launchedAt: Date())
            }
            // A launch defines the domain and starts it right after writing the boot marker: give it time.
            guard off, Date().timeIntervalSince(console.lastModified() ?? instance.createdAt) > 30 else { return instance }
            return try await catalog.transitionInstance(instance.id, to: .stopped,
                                                        reason: "the guest stopped before it was ready")
        }
        guard off else { return instance }
        let reason = state == nil ? "its libvirt domain disappeared" : "the guest stopped by itself"
        return try await catalog.transitionInstance(instance.id, to: .stopped, reason: reason)
    }
}

/// `instance describe`: the instance, its attached volumes and its latest boot's phase markers.
public struct InstanceDescription: Sendable, Codable {
    public var instance: Instance
    public var volumes: [Volume]
    public var bootMarkers: [BootMarker]
}
