import Foundation

extension SnapshotCopies {
    /// Settles every pending snapshot whose copying process is gone (killed, crashed, machine rebooted): one
    /// whose manifest reached the store is complete (the process died before saying so) and is recorded as
    /// such; any other is marked `error`, its packs left as garbage for `store gc`. Either way what the capture
    /// left running goes: a frozen guest is thawed, the backup job ends, an unneeded checkpoint or bitmap and
    /// the export directory are removed.
    func recoverInterrupted() async throws(SnaplabError) {
        for var snapshot in try await catalog.snapshots(state: .pending) {
            if isLocal(snapshot.id) { continue }
            if let pid = snapshot.workerPid, let start = snapshot.workerStartTime,
                ProcessIdentity(pid: pid, startTime: start).isAlive
            {
                continue
            }
            if let completed = await completeFromStore(snapshot) {
                await cleanUpInterrupted(completed)
                continue
            }
            let reason =
                "interrupted: the process copying it (pid \(snapshot.workerPid.map(String.init) ?? "?")) ended before the copy finished; take a new snapshot"
            do throws(SnaplabError) {
                snapshot = try await catalog.failSnapshot(snapshot.id, reason: reason)
            } catch  where error.code == .invalidState || error.code == .notFound {
                continue  // Another process settled it first.
            }
            await cleanUpInterrupted(snapshot)
        }
    }

    /// Records as completed a snapshot whose manifest is in the store (the manifest is written only once every
    /// chunk is durable), with the figures the manifest holds.
    private func completeFromStore(_ snapshot: Snapshot) async -> Snapshot? {
        guard (try? await store.hasManifest(snapshot.id)) == true,
            let manifest = try? await store.manifest(snapshot.id)
        else { return nil }
        do throws(SnaplabError) {
            let completed = try await catalog.completeSnapshot(snapshot.id) { row in
                row.progress = 100
                row.incremental = manifest.parentId != nil
                row.parentId = manifest.parentId ?? row.parentId
                row.createdAt = manifest.createdAt
                row.completedAt = manifest.completedAt
                row.bytesRead = manifest.bytesRead
                row.bytesChanged = manifest.bytesChanged
                row.bytesStored = manifest.bytesStored
                row.allocatedBytes = manifest.allocatedBytes
                row.consistency = ConsistencyLevel(rawValue: manifest.consistency) ?? row.consistency
                row.workerPid = nil
                row.workerStartTime = nil
            }
            logger.notice("recorded as completed: its copy reached the store", metadata: ["snapshot": "\(snapshot.id)"])
            return completed
        } catch {
            return nil  // Another process settled it first.
        }
    }

    private func cleanUpInterrupted(_ snapshot: Snapshot) async {
        guard let checkpoint = snapshot.checkpoint,
            let volume = try? await catalog.volume(snapshot.volumeId),
            let host = try? await catalog.host(named: volume.host),
            let hypervisor = try? await hosts.hypervisor(for: host)
        else { return }
        let stillNeeded = ((try? await catalog.snapshots(usingCheckpoint: checkpoint)) ?? []).contains {
            $0.state == .completed || $0.state == .pending
        }
        if let instanceId = snapshot.instanceId, let instance = try? await catalog.instance(instanceId) {
            // Killed before the capture was recorded, maybe between freeze and thaw: the guest's writes would
            // hang until someone thaws it (thawing a guest that is not frozen does nothing).
            if snapshot.consistency == nil {
                await logger.bestEffort("thawing \(instance.id)") {
                    try await hypervisor.thaw(domain: instance.domainName)
                }
            }
            let otherCopies = ((try? await catalog.snapshots(state: .pending)) ?? []).contains {
                $0.instanceId == instanceId
            }
            if !otherCopies {
                await logger.bestEffort("ending the backup job of \(instance.id)") {
                    try await hypervisor.endBackup(domain: instance.domainName)
                }
            }
            if !stillNeeded {
                await logger.bestEffort("deleting checkpoint \(checkpoint) of \(instance.id)") {
                    try await hypervisor.deleteCheckpoint(
                        domain: instance.domainName, checkpoint: checkpoint,
                        metadataOnly: false)
                }
            }
            logger.bestEffort("removeItem") {
                try FileManager.default.removeItem(at: paths.exports.appendingPathComponent(checkpoint))
            }
        } else if !stillNeeded, (try? await tracking.volumeIsInRunningUse(volume)) == false {
            await tracking.removeBitmapIfPresent(checkpoint, from: volume.path)
        }
    }

    /// A snapshot being copied reads its volume (through a backup job or qemu-nbd) until it completes: what
    /// would pull the volume from under it is refused (after settling copies whose process died).
    func checkNotCopying(_ volumeIds: [String], action: String) async throws(SnaplabError) {
        try await recoverInterrupted()
        if let busy = try await catalog.pendingSnapshots(of: volumeIds).first {
            throw SnaplabError(
                .invalidState,
                "volume \(busy.volumeId) is being snapshotted (\(busy.id), \(Int(busy.progress))%); it can be \(action) once that copy finishes (`snaplab snapshot describe \(busy.id)`)"
            )
        }
    }
}
