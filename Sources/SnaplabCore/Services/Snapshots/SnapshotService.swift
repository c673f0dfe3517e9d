import Faults
import Foundation
import Libvirt
import Logging
import SnapshotStore

/// Snapshots: capture (the instant), copy into the store (in the background), wait, restore, diff, delete.
public final class SnapshotService: Sendable {
    let logger = Logger(label: "snaplab.snapshots")
    let catalog: Catalog
    let paths: LabPaths
    let hosts: HostService
    let store: StoreService
    let states: InstanceStates
    let tracking: ChangeTracking
    let copies: SnapshotCopies
    let volumes: VolumeService

    init(
        catalog: Catalog, paths: LabPaths, hosts: HostService, store: StoreService, states: InstanceStates,
        tracking: ChangeTracking, copies: SnapshotCopies, volumes: VolumeService
    ) {
        self.catalog = catalog
        self.paths = paths
        self.hosts = hosts
        self.store = store
        self.states = states
        self.tracking = tracking
        self.copies = copies
        self.volumes = volumes
    }

    /// Snapshots one volume. Returns once the point in time is captured, with the snapshot `pending`; the copy
    /// into the store goes on in the background (`wait(for:)` waits for it).
    public func create(volumeId: String, options: SnapshotOptions = SnapshotOptions())
        async throws(SnaplabError) -> Snapshot
    {
        let volume = try await catalog.volume(volumeId)
        return try await createSnapshots(of: [volume], setId: nil, options: options)[0]
    }

    /// Snapshots several volumes of one instance (all by default) at one instant: one snapshot per volume,
    /// linked by a set id.
    public func createSet(
        instanceId: String, volumeIds: [String]? = nil,
        options: SnapshotOptions = SnapshotOptions()
    ) async throws(SnaplabError)
        -> [Snapshot]
    {
        let instance = try await catalog.instance(instanceId)
        guard instance.state != .terminated else {
            throw SnaplabError(.invalidState, "instance \(instanceId) is terminated; it has no volumes to snapshot")
        }
        var volumes = try await catalog.volumes(attachedTo: instanceId)
        if let volumeIds {
            for id in volumeIds where !volumes.contains(where: { $0.id == id }) {
                throw SnaplabError(.invalidArgument, "volume \(id) is not attached to \(instanceId)")
            }
            volumes = volumes.filter { volumeIds.contains($0.id) }
        }
        guard !volumes.isEmpty else { throw SnaplabError(.invalidArgument, "no volumes to snapshot") }
        return try await createSnapshots(of: volumes, setId: ResourceID.generate(.snapshotSet), options: options)
    }

    private func createSnapshots(of volumes: [Volume], setId: String?, options: SnapshotOptions)
        async throws(SnaplabError) -> [Snapshot]
    {
        for volume in volumes where ![.available, .inUse].contains(volume.state) {
            throw SnaplabError(
                .invalidState,
                "volume \(volume.id) is \(volume.state.rawValue); only available or in-use volumes can be snapshotted")
        }
        // A lazy volume's copy reads what it has not hydrated yet through the export.
        if volumes.contains(where: { $0.lazy != nil }) { try await ExportServiceLauncher(paths: paths).ensureRunning() }
        let instanceIds = Set(volumes.compactMap(\.instanceId))
        guard instanceIds.count <= 1 else {
            throw SnaplabError(.invalidArgument, "a snapshot set covers the volumes of one instance")
        }
        let instance: Instance? = if let id = instanceIds.first { try await states.refreshed(id) } else { nil }
        if let instance, [.pending, .stopping, .shuttingDown].contains(instance.state) {
            throw SnaplabError(
                .invalidState,
                "instance \(instance.id) is \(instance.state.rawValue); snapshot it once it is running or stopped")
        }
        let running = instance?.state == .running
        let host = try await catalog.host(named: volumes[0].host)
        let hypervisor = try await hosts.hypervisor(for: host)
        // The store session (its shared lock) is held from before the index is read until the copies end:
        // garbage collection can neither remove a chunk this copy counts as stored, nor run under it.
        let session = try await store.session()
        do throws(SnaplabError) {
            let job = try await capture(
                volumes, setId: setId, options: options, instance: instance,
                running: running, hypervisor: hypervisor, session: session)
            await copies.start(job)
            return job.snapshots
        } catch {
            await session.release()
            throw error
        }
    }

    /// Records the pending snapshots, captures the instant, and describes the copies to make. Undoes the
    /// capture (backup job, checkpoint or bitmaps) and marks the rows `error` if anything after it fails.
    private func capture(
        _ volumes: [Volume], setId: String?, options: SnapshotOptions, instance: Instance?,
        running: Bool, hypervisor: Hypervisor, session: StoreSession
    )
        async throws(SnaplabError) -> CopyJob
    {
        // Rows first, so a crash during capture leaves a pending snapshot that recovery can settle.
        let worker = ProcessIdentity.current
        var snapshots = volumes.map { volume in
            Snapshot(
                id: ResourceID.generate(.snapshot), volumeId: volume.id, volumeRole: volume.role,
                volumeSize: volume.size, state: .pending, setId: setId,
                instanceId: running ? instance?.id : nil, description: options.description,
                tags: options.tags, boot: volume.boot, workerPid: worker.pid, workerStartTime: worker.startTime)
        }
        // The checkpoint is named before the capture makes it: recovery removes what a killed capture left.
        let checkpoint = setId ?? snapshots[0].id
        for index in snapshots.indices { snapshots[index].checkpoint = checkpoint }
        try await catalog.insertPending(snapshots)
        var captured: [CapturedVolume] = []
        do throws(SnaplabError) {
            if running, let instance {
                captured = try await captureRunning(
                    volumes, instance: instance, checkpoint: checkpoint,
                    options: options, hypervisor: hypervisor)
            } else {
                captured = try await captureStopped(volumes, checkpoint: checkpoint, instance: instance)
            }
            FaultPoint.reach(.captureAfterThaw)
            let capturedAt = Date()
            for index in snapshots.indices {
                let capture = captured[index]
                snapshots[index].createdAt = capturedAt
                snapshots[index].parentId = capture.base == nil ? nil : capture.volume.lastSnapshotId
                snapshots[index].incremental = capture.base != nil
                snapshots[index].consistency = capture.consistency
                snapshots[index].consistencyNote = capture.consistencyNote
                try await catalog.update(snapshots[index])
            }
        } catch {
            await tracking.endBackupJob(of: captured, hypervisor: hypervisor)
            for capture in captured {
                await tracking.discardCheckpoint(checkpoint, capture: capture, hypervisor: hypervisor)
            }
            for snapshot in snapshots {
                do throws(SnaplabError) {
                    try await catalog.failSnapshot(
                        snapshot.id, reason: "capture failed: \(error.message)",
                        keepCheckpoint: false)
                } catch {
                    logger.error(
                        "cannot record the failed capture",
                        metadata: ["snapshot": "\(snapshot.id)", "error": "\(error.message)"])
                }
            }
            throw error
        }
        return CopyJob(
            snapshots: snapshots, captures: captured, hypervisor: hypervisor, instance: instance,
            session: session)
    }

    /// Waits until a snapshot is no longer pending (copied here, or by another process) and returns it;
    /// `progress` hears its progress every half second meanwhile.
    public func wait(for id: String, progress: (@Sendable (Double) -> Void)? = nil)
        async throws(SnaplabError) -> Snapshot
    {
        let catalog = self.catalog
        let copies = self.copies
        let local = await withTaskGroup(of: Bool?.self) { group in
            group.addTask { await copies.wait(for: id) }
            if let progress {
                group.addTask {
                    while !Task.isCancelled {
                        if let current = try? await catalog.findSnapshot(id) { progress(current.progress) }
                        try? await Task.sleep(for: .milliseconds(500))
                    }
                    return nil
                }
            }
            defer { group.cancelAll() }
            return await group.next() ?? false
        }
        if local == true { return try await catalog.snapshot(id) }
        while true {
            let snapshot = try await catalog.snapshot(id)
            if snapshot.state != .pending { return snapshot }
            progress?(snapshot.progress)
            if let pid = snapshot.workerPid, let start = snapshot.workerStartTime,
                !ProcessIdentity(pid: pid, startTime: start).isAlive
            {
                try await copies.recoverInterrupted()
                continue
            }
            try? await Task.sleep(for: .milliseconds(500))
        }
    }

    public func list() async throws(SnaplabError) -> [Snapshot] {
        try await catalog.snapshots()
    }

    public func get(_ id: String) async throws(SnaplabError) -> Snapshot {
        try await catalog.snapshot(id)
    }

    /// Deletes a completed (or failed) snapshot: into the recycle bin when a bin rule matches its tags (its copy
    /// stays in the store), for good otherwise. A snapshot under a lock in force is refused. The chunks of a
    /// deleted snapshot stay until `store gc` finds nothing uses them; newer snapshots never depend on it.
    @discardableResult
    public func delete(_ id: String) async throws(SnaplabError) -> SnapshotDeletion {
        let snapshot: Snapshot
        do throws(SnaplabError) {
            snapshot = try await catalog.snapshot(id)
        } catch  where error.code == .notFound {
            // A delete killed between its two steps left the store's copy: finish it.
            // A snapshot in the recycle bin keeps its copy on purpose.
            guard (try? await store.hasManifest(id)) == true, try await catalog.recycledSnapshot(id) == nil else {
                throw error
            }
            try await store.deleteSnapshot(id)
            return .deleted
        }
        if snapshot.state == .pending {
            throw SnaplabError(.invalidState, "snapshot \(id) is still being copied; wait for it to finish")
        }
        let now = Date()
        if let lock = snapshot.lock, lock.isActive(at: now) { throw SnaplabError.locked(id, lock, at: now) }
        try await checkNotInUse(snapshot)
        if snapshot.state == .completed,
            let rule = RecycleBinRule.applying(to: snapshot.tags, among: try await catalog.recycleBinRules())
        {
            return .recycled(try await recycle(snapshot, rule: rule, at: now))
        }
        // The catalog row goes first: a kill before the store's copy is deleted leaves a copy that `delete`
        // finishes, never a completed row whose data is gone.
        try await catalog.deleteSnapshot(id)
        try await catalog.forgetLastSnapshot(id, of: snapshot.volumeId)
        FaultPoint.reach(.deleteBetweenCatalogAndStore)
        do throws(SnaplabError) {
            try await store.deleteSnapshot(id)
            if snapshot.lock != nil { try await store.deleteDocument(kind: StoreService.lockDocumentKind, id: id) }
        } catch {
            throw SnaplabError(
                error.code,
                "snapshot \(id) left the catalog but its copy in the store was not deleted (\(error.message)); run `snaplab snapshot delete \(id)` again to finish",
                cause: error)
        }
        return .deleted
    }

    /// Restores a snapshot into a new volume (sparse qcow2; zero chunks are not written).
    public func restore(
        _ id: String, tags: [String: String] = [:], host hostName: String? = nil,
        progress: (@Sendable (Double) -> Void)? = nil
    ) async throws(SnaplabError) -> Volume {
        let snapshot = try await catalog.snapshot(id)
        guard snapshot.state == .completed else {
            throw SnaplabError(
                .invalidState, "snapshot \(id) is \(snapshot.state.rawValue); only completed snapshots can be restored")
        }
        let host = try await hosts.host(hostName)
        return try await store.withSession { (session) async throws(SnaplabError) -> Volume in
            let manifest = try await store.manifest(id)
            return try await volumes.provision(
                role: snapshot.volumeRole, size: manifest.volumeSize, host: host,
                tags: tags, boot: snapshot.boot, origin: "snapshot \(id)"
            ) {
                (hypervisor: Hypervisor, volumeId: String) async throws(SnaplabError) in
                try await VolumeRestorer.restore(
                    manifest, session: session, into: host,
                    name: VolumeService.poolVolumeName(volumeId), hypervisor: hypervisor, transfers: paths.transfers,
                    progress: { done in
                        if done >= 50 { FaultPoint.reach(.restoreMidway) }
                        progress?(done)
                    })
            }
        }
    }

    /// The chunk ranges whose contents differ between two snapshots (EBS ListChangedBlocks).
    public func diff(_ firstId: String, _ secondId: String) async throws(SnaplabError) -> [ChangedRange] {
        let first = try await store.manifest(firstId)
        let second = try await store.manifest(secondId)
        guard first.chunkSize == second.chunkSize else {
            throw SnaplabError(.invalidArgument, "the snapshots use different chunk sizes")
        }
        let chunks = try await store.changedChunks(first, second)
        let chunkSize = UInt64(first.chunkSize)
        let size = max(first.volumeSize, second.volumeSize)
        return chunks.map { run in
            let offset = UInt64(run.lowerBound) * chunkSize
            return ChangedRange(offset: offset, length: min(UInt64(run.count) * chunkSize, size - offset))
        }
    }

    /// Pins or unpins a snapshot: a pinned snapshot is never pruned by a policy.
    public func setPinned(_ id: String, _ pinned: Bool) async throws(SnaplabError) -> Snapshot {
        try ResourceID.validate(id, as: .snapshot)
        return try await catalog.setPinned(id, pinned)
    }

    /// A snapshot a registered image needs cannot be deleted (EC2's InvalidSnapshot.InUse).
    func checkNotInUse(_ snapshot: Snapshot) async throws(SnaplabError) {
        if let image = try await catalog.images(using: snapshot.id).first {
            throw SnaplabError(
                .conflict,
                "snapshot \(snapshot.id) is in use by image \(image.id) (\(image.name)); deregister the image first",
                subject: snapshot.id, detail: .inUse)
        }
        if let volume = try await catalog.lazyVolumes(readingFrom: snapshot.id).first {
            throw SnaplabError(
                .conflict,
                "snapshot \(snapshot.id) is still read by lazy volume \(volume.id) until its hydration ends; wait for it (`snaplab volume describe \(volume.id)`) or delete the volume",
                subject: snapshot.id, detail: .inUse)
        }
    }
}

/// A byte range that differs between two snapshots.
public struct ChangedRange: Sendable, Codable, Equatable {
    public var offset: UInt64
    public var length: UInt64
}
