import Foundation
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

extension Lab {
    /// Starts the copies in this process; `waitForSnapshot` finds them by snapshot id.
    func startCopies(_ job: CopyJob) {
        let runner = Task { await self.runCopies(job) }
        copies.withLock { running in
            for (position, snapshot) in job.snapshots.enumerated() {
                running[snapshot.id] = Task { await runner.value[position] }
            }
        }
    }

    private func runCopies(_ job: CopyJob) async -> [Snapshot] {
        var results: [Snapshot] = []
        for (snapshot, capture) in zip(job.snapshots, job.captures) {
            results.append(await copy(snapshot, capture, job: job))
        }
        await job.session.release()
        await finishCapture(job, results: results)
        let ids = job.snapshots.map(\.id)
        copies.withLock { running in ids.forEach { running.removeValue(forKey: $0) } }
        return results
    }

    /// Copies one captured volume into the store and records the result; never throws (a failure becomes the
    /// snapshot's `error` state, and nothing is listed as completed that is not complete in the store).
    private func copy(_ snapshot: Snapshot, _ capture: CapturedVolume, job: CopyJob) async -> Snapshot {
        var snapshot = snapshot
        do throws(SnaplabError) {
            let store = job.session.store
            var parent: Manifest?
            if capture.base != nil, let parentId = snapshot.parentId {
                parent = try await withStore { () async throws(StoreError) in try await store.manifest(parentId) }
            }
            let incremental = parent != nil
            let connection: NBDConnection
            let dirtyContext: String?
            switch capture.source {
            case .backup(_, let socket, let device):
                connection = try await VolumeExport.openBackup(socket: socket, device: device, incremental: incremental)
                dirtyContext = incremental ? VolumeExport.backupBitmapContext(device) : nil
            case .stopped(let file):
                connection = try await VolumeExport.openStopped(file: file, bitmap: incremental ? capture.base : nil)
                dirtyContext = capture.base.map { "qemu:dirty-bitmap:\($0)" }
            }
            let reporter = ProgressReporter(catalog: catalog, snapshotId: snapshot.id)
            let written = try await SnapshotCopier(
                connection: connection, session: job.session, volumeSize: snapshot.volumeSize, parent: parent,
                dirtyContext: incremental ? dirtyContext : nil, progress: reporter.report).run(snapshotId: snapshot.id)
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
            try await withStore { () async throws(StoreError) in try await job.session.commit(manifest) }
            snapshot.state = .completed
            snapshot.progress = 100
            snapshot.incremental = incremental
            if !incremental { snapshot.parentId = capture.volume.lastSnapshotId }
            snapshot.completedAt = completedAt
            snapshot.bytesRead = written.bytesRead
            snapshot.bytesChanged = written.bytesChanged
            snapshot.bytesStored = written.bytesStored
            snapshot.allocatedBytes = written.table.allocatedBytes
            snapshot.workerPid = nil
            snapshot.workerStartTime = nil
            try await catalog.completeSnapshot(snapshot)
        } catch {
            snapshot.state = .error
            snapshot.errorMessage = error.message
            snapshot.workerPid = nil
            snapshot.workerStartTime = nil
            try? await catalog.update(snapshot)
        }
        return snapshot
    }

    /// Ends the libvirt backup job the captures were exported through (a running instance's) and removes the
    /// directory of its NBD socket.
    func endBackupJob(of captures: [CapturedVolume], hypervisor: Hypervisor) async {
        guard case .backup(let domain, let socket, _)? = captures.first?.source else { return }
        try? await hypervisor.endBackup(domain: domain)
        try? FileManager.default.removeItem(atPath: (socket as NSString).deletingLastPathComponent)
    }

    /// After the copies: end the backup job, drop the checkpoints / bitmaps no volume needs any more, and let a
    /// stopped instance's domain know the bitmaps made while it was off.
    private func finishCapture(_ job: CopyJob, results: [Snapshot]) async {
        let hypervisor = job.hypervisor
        await endBackupJob(of: job.captures, hypervisor: hypervisor)
        for (result, capture) in zip(results, job.captures) {
            guard let checkpoint = result.checkpoint else { continue }
            if result.state == .completed {
                if let old = capture.volume.cbtBase, old != checkpoint {
                    await retireCheckpoint(old, volumeId: capture.volume.id, hypervisor: hypervisor)
                }
            } else if !results.contains(where: { $0.state == .completed && $0.checkpoint == checkpoint }) {
                await discardCheckpoint(checkpoint, capture: capture, hypervisor: hypervisor)
            }
        }
        let offlineDone = zip(results, job.captures).filter { result, capture in
            if case .stopped = capture.source { return result.state == .completed }
            return false
        }
        if let instance = job.instance, let checkpoint = offlineDone.first?.0.checkpoint {
            let devices = offlineDone.compactMap { $0.1.volume.device }
            let allDevices = (try? await catalog.volumes(attachedTo: instance.id).compactMap(\.device)) ?? devices
            try? await hypervisor.redefineCheckpoint(
                domain: instance.domainName,
                checkpoint: CheckpointXML(name: checkpoint, devices: devices, allDevices: allDevices,
                                          creationTime: Int(Date().timeIntervalSince1970)))
        }
    }
}

/// Writes a pending snapshot's progress to the catalog at most every percent or second.
final class ProgressReporter: Sendable {
    private let catalog: Catalog
    private let snapshotId: String
    private let last = Mutex<(Double, ContinuousClock.Instant)>((-1, .now))

    init(catalog: Catalog, snapshotId: String) {
        self.catalog = catalog
        self.snapshotId = snapshotId
    }

    var report: @Sendable (Double) -> Void {
        { [self] progress in
            let due = last.withLock { state -> Bool in
                guard progress - state.0 >= 1 || ContinuousClock.now - state.1 >= .seconds(1) else { return false }
                state = (progress, .now)
                return true
            }
            guard due else { return }
            let catalog = self.catalog
            let id = self.snapshotId
            Task { try? await catalog.updateProgress(id, progress: (progress * 10).rounded() / 10) }
        }
    }
}
