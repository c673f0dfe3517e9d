import Foundation
import Logging

/// Lazy volumes: a qcow2 overlay whose backing file is a snapshot's block export, usable the moment it exists.
/// The export service reads what the guest asks for from the store; meanwhile the snapshot's base hydrates on
/// the host, and the volume then moves onto that base (a shallow block copy and pivot while its instance runs,
/// an unsafe rebase while it does not: the base holds exactly what the export served), after which it no
/// longer needs the export.
public final class LazyVolumes: Sendable {
    let logger = Logger(label: "snaplab.lazy")
    let catalog: Catalog
    let paths: LabPaths
    let hosts: HostService
    let volumes: VolumeService
    let bases: BaseService
    public let launcher: ExportServiceLauncher

    init(catalog: Catalog, paths: LabPaths, hosts: HostService, volumes: VolumeService, bases: BaseService) {
        self.catalog = catalog
        self.paths = paths
        self.hosts = hosts
        self.volumes = volumes
        self.bases = bases
        launcher = ExportServiceLauncher(paths: paths)
    }

    /// Whether volumes on this host can read from the export service, which listens on this machine only.
    static func canServe(_ host: Host) -> Bool {
        host.uri.hasPrefix("qemu:///")
    }

    /// A volume that reads `snapshotId` from its export until hydrated; starts the export service if needed.
    /// `pullRate` (bytes per second) bounds the background hydration.
    func provision(
        snapshotId: String, role: VolumeRole, host: Host, boot: BootSettings?, origin: String,
        tags: [String: String] = [:], pullRate: UInt64? = nil
    ) async throws(SnaplabError) -> Volume {
        guard Self.canServe(host) else {
            throw SnaplabError(
                .invalidArgument,
                "host \(host.name) (\(host.uri)) is not this machine: lazy volumes read from this machine's export service; launch without --lazy"
            )
        }
        let snapshot = try await catalog.snapshot(snapshotId)
        guard snapshot.state == .completed else {
            throw SnaplabError(
                .invalidState,
                "snapshot \(snapshotId) is \(snapshot.state.rawValue); only a completed one can be served")
        }
        try await launcher.ensureRunning()
        let uri = ExportService.uri(snapshot: snapshotId, paths: paths)
        return try await volumes.provision(
            role: role, size: snapshot.volumeSize, host: host, tags: tags, boot: boot, origin: origin,
            baseSnapshotId: snapshotId, lazy: LazySource(snapshotId: snapshotId, pullRate: pullRate)
        ) { (hypervisor: Hypervisor, id: String) async throws(SnaplabError) in
            let name = VolumeService.poolVolumeName(id)
            let file = URL(fileURLWithPath: host.poolPath).appendingPathComponent(name).path
            do throws(SnaplabError) {
                try await QemuImg.createOverlay(at: file, size: snapshot.volumeSize, onExport: uri)
            } catch {
                // An idle service may have exited between the check above and this row: start one, once more.
                try await launcher.ensureRunning()
                try await QemuImg.createOverlay(at: file, size: snapshot.volumeSize, onExport: uri)
            }
            return try await hypervisor.adoptVolume(pool: host.poolName, name: name)
        }
    }

    /// Restores a snapshot into a volume that can be attached and booted at once: it reads from the snapshot's
    /// export until the host's base of the snapshot has hydrated, then sits on that base.
    public func restore(
        _ snapshotId: String, tags: [String: String] = [:], host hostName: String? = nil, pullRate: UInt64? = nil
    ) async throws(SnaplabError) -> Volume {
        let host = try await hosts.host(hostName)
        let snapshot = try await catalog.snapshot(snapshotId)
        return try await provision(
            snapshotId: snapshotId, role: snapshot.volumeRole, host: host, boot: snapshot.boot,
            origin: "snapshot \(snapshotId) (lazy)", tags: tags, pullRate: pullRate)
    }

    /// Starts the export service when lazy volumes wait for it and none runs (it was killed, the host
    /// rebooted): it resumes their guests and their hydration. Commands that show instances call this.
    public func resumeUnfinished() async throws(SnaplabError) {
        let waiting = try await catalog.lazyVolumes()
        var servable = false
        for volume in waiting where !servable {
            servable = LazyVolumes.canServe(try await catalog.host(named: volume.host))
        }
        if servable { try await launcher.ensureRunning() }
    }

    /// How the hydration of each lazy volume stands.
    func hydrations(of volumes: [Volume]) async throws(SnaplabError) -> [Hydration] {
        var result: [Hydration] = []
        for volume in volumes {
            guard let source = volume.lazy else { continue }
            let base = try await catalog.base(snapshot: source.snapshotId, host: volume.host)
            result.append(
                Hydration(
                    volumeId: volume.id, device: volume.device, snapshotId: source.snapshotId,
                    state: source.state, percent: base?.progress ?? 0, reason: source.reason, since: source.since))
        }
        return result
    }

    /// Moves a lazy volume onto its (ready) base: by block copy when its instance's domain runs, by rebase
    /// otherwise. Afterwards the volume no longer reads from the export.
    func complete(_ volumeId: String, onto base: BaseVolume) async throws(SnaplabError) {
        let volume = try await catalog.volume(volumeId)
        guard volume.lazy != nil else { return }
        let host = try await catalog.host(named: volume.host)
        let hypervisor = try await hosts.hypervisor(for: host)
        if let instanceId = volume.instanceId, let device = volume.device,
            let state = try await hypervisor.domainState(name: instanceId),
            [.running, .paused, .blocked].contains(state)
        {
            let name = "\(volume.id)-on-base.qcow2"
            try await hypervisor.deleteVolume(pool: host.poolName, name: name)
            let target = try await hypervisor.createVolume(
                pool: host.poolName, name: name, capacity: volume.size, backingPath: base.path)
            do throws(SnaplabError) {
                try await hypervisor.shallowCopy(
                    domain: instanceId, disk: device,
                    destination: DomainXML.Disk(
                        path: target.path, device: device, serial: volume.id, backingPath: base.path),
                    timeout: .seconds(600))
            } catch {
                await logger.bestEffort("deleting the unused copy target \(name)") {
                    try await hypervisor.deleteVolume(pool: host.poolName, name: name)
                }
                throw error
            }
            try await catalog.finishLazy(volume.id, poolVolume: name, path: target.path)
            await logger.bestEffort("deleting \(volume.poolVolume), replaced by its copy") {
                try await hypervisor.deleteVolume(pool: host.poolName, name: volume.poolVolume)
            }
        } else {
            try await QemuImg.rebaseUnsafe(volume.path, onto: base.path)
            try await catalog.finishLazy(volume.id, poolVolume: volume.poolVolume, path: volume.path)
        }
        logger.info("lazy volume completed", metadata: ["volume": "\(volume.id)", "base": "\(base.snapshotId)"])
    }
}

/// A lazy volume's progress: how much of its snapshot's base has hydrated, and whether it is stuck.
public struct Hydration: Sendable, Codable, Equatable {
    public var volumeId: String
    public var device: String?
    public var snapshotId: String
    public var state: LazySource.State
    public var percent: Double
    public var reason: String?
    public var since: Date
}
