import Faults
import Foundation
import Logging
import NBD
import SnapshotStore
import Synchronization

/// The copies that follow one capture (one volume, or a set sharing one backup job).
struct CopyJob: Sendable {
    var snapshots: [Snapshot]
    var captures: [CapturedVolume]
    var hypervisor: Hypervisor
    var instance: Instance?
    /// The store session (its shared lock), taken before the capture; released when the copies end.
    var session: StoreSession
}

/// The copies that follow captures: run by the background owner, one job per capture, and known here while
/// they run so that waiting for one, recovering dead ones and refusing to pull a volume from under one all
/// look in one place.
final class SnapshotCopies: Sendable {
    let catalog: Catalog
    let paths: LabPaths
    let hosts: HostService
    let store: StoreService
    let tracking: ChangeTracking
    let background: BackgroundWork
    let logger = Logger(label: "snaplab.snapshots")
    /// Snapshot ids being copied by this process, with the tasks waiting for each.
    private let running = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    init(
        catalog: Catalog, paths: LabPaths, hosts: HostService, store: StoreService, tracking: ChangeTracking,
        background: BackgroundWork
    ) {
        self.catalog = catalog
        self.paths = paths
        self.hosts = hosts
        self.store = store
        self.tracking = tracking
        self.background = background
    }

    /// Starts the copies of a capture in the background; `wait(for:)` finds them by snapshot id.
    func start(_ job: CopyJob) async {
        let ids = job.snapshots.map(\.id)
        running.withLock { copies in for id in ids { copies[id] = [] } }
        let started = background.submit("copy \(ids.joined(separator: " "))") {
            _ = await self.run(job, failure: nil)
        }
        if !started {
            _ = await run(
                job, failure: "the controller was shutting down before the copy could start; take the snapshot again")
        }
    }

    /// Waits until a copy this process runs has ended; false at once if this process does not run it.
    func wait(for id: String) async -> Bool {
        let local = Mutex(false)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let waiting = running.withLock { copies in
                guard copies[id] != nil else { return false }
                copies[id, default: []].append(continuation)
                return true
            }
            local.withLock { $0 = waiting }
            if !waiting { continuation.resume() }
        }
        return local.withLock { $0 }
    }

    func isLocal(_ id: String) -> Bool { running.withLock { $0[id] != nil } }

    private func run(_ job: CopyJob, failure: String?) async -> [Snapshot] {
        var results: [Snapshot] = []
        for (snapshot, capture) in zip(job.snapshots, job.captures) {
            results.append(await copy(snapshot, capture, job: job, failure: failure))
        }
        await job.session.release()
        await finishCapture(job, results: results)
        let waiters = running.withLock { copies in job.snapshots.flatMap { copies.removeValue(forKey: $0.id) ?? [] } }
        for waiter in waiters { waiter.resume() }
        return results
    }

    /// Copies one captured volume into the store and records the result; never throws (a failure becomes the
    /// snapshot's `error` state, and nothing is listed as completed that is not complete in the store).
    private func copy(_ snapshot: Snapshot, _ capture: CapturedVolume, job: CopyJob, failure: String?) async -> Snapshot
    {
        var snapshot = snapshot
        do throws(SnaplabError) {
            if let failure { throw SnaplabError(.invalidState, failure) }
            let store = job.session.store
            var parent: Manifest?
            if capture.base != nil, let parentId = snapshot.parentId {
                parent = try await withStore { () async throws(StoreError) in try await store.manifest(parentId) }
            }
            let incremental = parent != nil
            let connection: NBDConnection
            let dirtyContext: String?
            var downloads: [URL] = []
            defer { for file in downloads { try? FileManager.default.removeItem(at: file) } }
            switch capture.source {
            case .backup(_, let endpoint, let device):
                connection = try await VolumeExport.openBackup(
                    endpoint: endpoint, device: device, incremental: incremental)
                dirtyContext = incremental ? VolumeExport.backupBitmapContext(device) : nil
            case .stopped(let file):
                connection = try await VolumeExport.openStopped(file: file, bitmap: incremental ? capture.base : nil)
                dirtyContext = capture.base.map { "qemu:dirty-bitmap:\($0)" }
            case .remoteStopped(let pool, let poolVolume):
                try Directories.create(paths.transfers)
                let file = paths.transfers.appendingPathComponent("download-\(snapshot.id).qcow2")
                downloads.append(file)
                try await job.hypervisor.downloadVolume(pool: pool, name: poolVolume, to: file)
                // An overlay on the host's base (a launch from an image): its base comes too, and the copy
                // points at it (both are files of the same pool there).
                if let backing = try await QemuImg.backingFile(of: file.path) {
                    let base = paths.transfers.appendingPathComponent("download-\(snapshot.id)-base.qcow2")
                    downloads.append(base)
                    try await job.hypervisor.downloadVolume(
                        pool: pool, name: URL(fileURLWithPath: backing).lastPathComponent, to: base)
                    try await QemuImg.rebaseUnsafe(file.path, onto: base.path)
                }
                connection = try await VolumeExport.openStopped(file: file.path, bitmap: nil)
                dirtyContext = nil
            }
            let copier = SnapshotCopier(
                connection: connection, session: job.session, volumeSize: snapshot.volumeSize,
                parent: parent, dirtyContext: incremental ? dirtyContext : nil)
            let written = try await ProgressReporter(catalog: catalog, snapshotId: snapshot.id).reporting {
                progress
                    async throws(SnaplabError) in
                try await copier.run(snapshotId: snapshot.id) { done in
                    if done >= 50 { FaultPoint.reach(.copyMidway) }
                    progress(done)
                }
            }
            var attributes: [String: String] = [:]
            if let boot = snapshot.boot, let encoded = try? JSONEncoder().encode(boot) {
                attributes[Snapshot.bootAttribute] = String(decoding: encoded, as: UTF8.self)
            }
            if let instanceId = snapshot.instanceId { attributes[Snapshot.instanceAttribute] = instanceId }
            if let note = snapshot.consistencyNote { attributes[Snapshot.consistencyNoteAttribute] = note }
            let completedAt = Date()
            let manifest = Manifest(
                snapshotId: snapshot.id, volumeId: snapshot.volumeId, volumeRole: snapshot.volumeRole.rawValue,
                volumeSize: snapshot.volumeSize, chunkSize: store.config.chunkSize, parentId: snapshot.parentId,
                setId: snapshot.setId, createdAt: snapshot.createdAt, completedAt: completedAt,
                consistency: (snapshot.consistency ?? .crash).rawValue, bytesRead: written.bytesRead,
                bytesChanged: written.bytesChanged, bytesStored: written.bytesStored,
                description: snapshot.description, tags: snapshot.tags, attributes: attributes, table: written.table)
            FaultPoint.reach(.commitBeforeManifest)
            try await withStore { () async throws(StoreError) in try await job.session.commit(manifest) }
            FaultPoint.reach(.commitBeforeCatalog)
            let parentId = incremental ? snapshot.parentId : capture.volume.lastSnapshotId
            snapshot = try await catalog.completeSnapshot(snapshot.id, bytesNew: written.bytesNew) { row in
                row.progress = 100
                row.incremental = incremental
                row.parentId = parentId
                row.completedAt = completedAt
                row.bytesRead = written.bytesRead
                row.bytesChanged = written.bytesChanged
                row.bytesStored = written.bytesStored
                row.allocatedBytes = written.table.allocatedBytes
                row.workerPid = nil
                row.workerStartTime = nil
            }
        } catch {
            logger.error("snapshot copy failed", metadata: ["snapshot": "\(snapshot.id)", "error": "\(error.message)"])
            do throws(SnaplabError) {
                snapshot = try await catalog.failSnapshot(snapshot.id, reason: error.message)
            } catch {
                logger.error(
                    "cannot record the failed copy",
                    metadata: ["snapshot": "\(snapshot.id)", "error": "\(error.message)"])
                snapshot.state = .error
                snapshot.errorMessage = error.message
            }
        }
        return snapshot
    }

    /// After the copies: end the backup job, drop the checkpoints / bitmaps no volume needs any more, and let a
    /// stopped instance's domain know the bitmaps made while it was off.
    private func finishCapture(_ job: CopyJob, results: [Snapshot]) async {
        let hypervisor = job.hypervisor
        await tracking.endBackupJob(of: job.captures, hypervisor: hypervisor)
        for (result, capture) in zip(results, job.captures) {
            guard let checkpoint = result.checkpoint else { continue }
            if result.state == .completed {
                if let old = capture.volume.cbtBase, old != checkpoint {
                    await tracking.retireCheckpoint(old, volumeId: capture.volume.id, hypervisor: hypervisor)
                }
            } else if !results.contains(where: { $0.state == .completed && $0.checkpoint == checkpoint }) {
                await tracking.discardCheckpoint(checkpoint, capture: capture, hypervisor: hypervisor)
            }
        }
        let offlineDone = zip(results, job.captures).filter { result, capture in
            if case .stopped = capture.source { return result.state == .completed }
            return false
        }
        if let instance = job.instance, let checkpoint = offlineDone.first?.0.checkpoint {
            let devices = offlineDone.compactMap { $0.1.volume.device }
            let allDevices = (try? await catalog.volumes(attachedTo: instance.id).compactMap(\.device)) ?? devices
            await tracking.redefineCheckpoint(
                checkpoint, devices: devices, allDevices: allDevices, of: instance, hypervisor: hypervisor)
        }
    }
}

/// Writes a copy's progress to the catalog, in order, from one task: the copy (on its threads) only records the
/// latest figure, and a child task of the copy writes it every half second while it changes.
struct ProgressReporter: Sendable {
    let catalog: Catalog
    let snapshotId: String

    func reporting<T: Sendable>(_ body: (@escaping @Sendable (Double) -> Void) async throws(SnaplabError) -> T)
        async throws(SnaplabError) -> T
    {
        let latest = LatestProgress()
        let catalog = self.catalog
        let id = snapshotId
        let result: Result<T, SnaplabError> = await withTaskGroup(of: Void.self) { group in
            group.addTask {
                var written = -1.0
                while !Task.isCancelled {
                    let progress = (latest.value.withLock { $0 } * 10).rounded() / 10
                    if progress != written, (try? await catalog.updateProgress(id, progress: progress)) != nil {
                        written = progress
                    }
                    try? await Task.sleep(for: .milliseconds(500))
                }
            }
            defer { group.cancelAll() }
            do throws(SnaplabError) {
                return .success(try await body { progress in latest.value.withLock { $0 = progress } })
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

private final class LatestProgress: Sendable {
    let value = Mutex<Double>(0)
}
