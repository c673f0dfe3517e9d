import Blocking
import Faults
import Foundation
import Logging
import SnapshotStore
import Synchronization

/// Bases: a snapshot restored once per host as a read-only volume that instances' overlays sit on, and the
/// image boot files each host keeps.
final class BaseService: Sendable {
    let logger = Logger(label: "snaplab.bases")
    let catalog: Catalog
    let paths: LabPaths
    let hosts: HostService
    let store: StoreService

    init(catalog: Catalog, paths: LabPaths, hosts: HostService, store: StoreService) {
        self.catalog = catalog
        self.paths = paths
        self.hosts = hosts
        self.store = store
    }

    /// The snapshot restored once on this host as a read-only base for overlays; hydrates it on first use.
    /// Concurrent launchers wait for the one that hydrates.
    /// `pullRate` (bytes of the volume per second) paces a hydration this call starts.
    func ensure(snapshotId: String, host: Host, pullRate: UInt64? = nil) async throws(SnaplabError) -> BaseVolume {
        while true {
            if let base = try await catalog.base(snapshot: snapshotId, host: host.name) {
                if base.state == .ready { return base }
                if let pid = base.workerPid, let start = base.workerStartTime,
                    !ProcessIdentity(pid: pid, startTime: start).isAlive
                {
                    // Its hydrator died: start over.
                    await logger.bestEffort("hosts.hypervisor.deleteVolume") {
                        try await hosts.hypervisor(for: host).deleteVolume(pool: host.poolName, name: base.poolVolume)
                    }
                    try await catalog.deleteBase(snapshot: snapshotId, host: host.name)
                    continue
                }
                if Task.isCancelled {
                    throw SnaplabError(.internal, "waiting for the base of \(snapshotId) on \(host.name) was cancelled")
                }
                try? await Task.sleep(for: .milliseconds(250))
                continue
            }
            let snapshot = try await catalog.snapshot(snapshotId)
            let worker = ProcessIdentity.current
            let name = "base-\(snapshotId).qcow2"
            var base = BaseVolume(
                snapshotId: snapshotId, host: host.name, state: .hydrating, poolVolume: name,
                path: "", size: snapshot.volumeSize, workerPid: worker.pid,
                workerStartTime: worker.startTime)
            guard try await catalog.claimBase(base) else { continue }
            do throws(SnaplabError) {
                let made = try await hydrate(snapshot, poolVolume: name, host: host, pullRate: pullRate)
                base.path = made.path
                base.size = made.size
                base.state = .ready
                base.progress = 100
                base.workerPid = nil
                base.workerStartTime = nil
                try await catalog.update(base)
                return base
            } catch {
                await logger.bestEffort("hosts.hypervisor.deleteVolume") {
                    try await hosts.hypervisor(for: host).deleteVolume(pool: host.poolName, name: name)
                }
                await logger.bestEffort("catalog.deleteBase") {
                    try await catalog.deleteBase(snapshot: snapshotId, host: host.name)
                }
                throw error
            }
        }
    }

    /// Restores the snapshot into the base's pool volume; its progress goes to the catalog every second (lazy
    /// volumes show it).
    private func hydrate(_ snapshot: Snapshot, poolVolume: String, host: Host, pullRate: UInt64?)
        async throws(SnaplabError) -> (path: String, size: UInt64)
    {
        let hypervisor = try await hosts.hypervisor(for: host)
        let percent = Mutex<Double>(0)
        let pace = pullRate.map { HydrationPace(bytesPerSecond: $0, volumeSize: snapshot.volumeSize) }
        let catalog = self.catalog
        let store = self.store
        return try await withReporting(every: .seconds(1)) {
            let done = percent.withLock { $0 }
            try? await catalog.setBaseProgress(snapshot: snapshot.id, host: host.name, percent: done)
        } body: { () async throws(SnaplabError) -> (path: String, size: UInt64) in
            try await store.withSession { (session) async throws(SnaplabError) -> (path: String, size: UInt64) in
                let manifest = try await store.manifest(snapshot.id)
                let made = try await VolumeRestorer.restore(
                    manifest, session: session, into: host,
                    name: poolVolume, hypervisor: hypervisor, transfers: paths.transfers,
                    progress: { done in
                        percent.withLock { $0 = done }
                        pace?.wait(untilDone: done)
                        if done >= 50 { FaultPoint.reach(.hydrationMidway) }
                    })
                return (made.path, manifest.volumeSize)
            }
        }
    }

    /// Removes a snapshot's base on a host whatever uses the image (nothing may sit on it): a benchmark starts
    /// over from a host that never hydrated it.
    func discard(snapshotId: String, host: Host) async throws(SnaplabError) {
        guard let base = try await catalog.base(snapshot: snapshotId, host: host.name) else { return }
        try await hosts.hypervisor(for: host).deleteVolume(pool: host.poolName, name: base.poolVolume)
        try await catalog.deleteBase(snapshot: snapshotId, host: host.name)
    }

    /// Removes a snapshot's base on every host once no overlay sits on it and no available image needs it.
    func releaseIfUnused(_ snapshotId: String) async {
        guard (try? await catalog.overlayCount(snapshot: snapshotId)) == 0,
            (try? await catalog.images(using: snapshotId))?.isEmpty == true
        else { return }
        for base in (try? await catalog.bases()) ?? [] where base.snapshotId == snapshotId && base.state == .ready {
            guard let host = try? await catalog.host(named: base.host),
                let hypervisor = try? await hosts.hypervisor(for: host)
            else { continue }
            await logger.bestEffort("hypervisor.deleteVolume") {
                try await hypervisor.deleteVolume(pool: host.poolName, name: base.poolVolume)
            }
            await logger.bestEffort("catalog.deleteBase") {
                try await catalog.deleteBase(snapshot: snapshotId, host: base.host)
            }
        }
    }

    /// The image's firmware, and its kernel and initramfs as local files (fetched from the store on first use)
    /// when it has them.
    func bootFiles(of image: MachineImage) async throws(SnaplabError) -> BootSettings {
        guard !image.kernelDigest.isEmpty else { return .firmware(image.bootFirmware) }
        return BootSettings(
            kernel: try await localArtifact(image.kernelDigest, suffix: "vmlinuz"),
            initrd: try await localArtifact(image.initrdDigest, suffix: "initrd.img"),
            cmdline: image.cmdline, firmware: image.bootFirmware)
    }

    private func localArtifact(_ digest: String, suffix: String) async throws(SnaplabError) -> String {
        let path = paths.bootArtifacts.appendingPathComponent("\(digest)-\(suffix)")
        let present = await BlockingPool.run { FileManager.default.fileExists(atPath: path.path) }
        if present { return path.path }
        let data = try await store.artifact(digest)
        do {
            try await BlockingPool.run { try VolumeService.installOnce(data, at: path) }
        } catch {
            throw SnaplabError(.io, "cannot write \(path.path)", cause: error)
        }
        return path.path
    }
}

extension BaseService {
    /// Removes bases whose hydrating process is gone: their files hold part of a snapshot; the next launch
    /// hydrates again.
    func recoverInterruptedHydrations() async throws(SnaplabError) {
        for base in try await catalog.bases() where base.state == .hydrating {
            guard let pid = base.workerPid, let start = base.workerStartTime,
                !ProcessIdentity(pid: pid, startTime: start).isAlive
            else { continue }
            let host = try await catalog.host(named: base.host)
            try await hosts.hypervisor(for: host).deleteVolume(pool: host.poolName, name: base.poolVolume)
            try await catalog.deleteBase(snapshot: base.snapshotId, host: base.host)
        }
    }
}
