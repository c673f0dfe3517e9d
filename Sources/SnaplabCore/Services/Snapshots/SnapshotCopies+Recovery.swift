import Foundation

extension SnapshotCopies {
    /// Marks `error` every pending snapshot whose copying process is gone (killed, crashed, machine rebooted)
    /// and undoes what its capture left: the backup job, the checkpoint or bitmap, the export directory. The
    /// store never saw its manifest, so it is not listed there; its packs are garbage for `store gc`.
    func recoverInterrupted() async throws(SnaplabError) {
        for var snapshot in try await catalog.snapshots(state: .pending) {
            if isLocal(snapshot.id) { continue }
            if let pid = snapshot.workerPid, let start = snapshot.workerStartTime,
                ProcessIdentity(pid: pid, startTime: start).isAlive
            {
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

    private func cleanUpInterrupted(_ snapshot: Snapshot) async {
        guard let checkpoint = snapshot.checkpoint,
            let volume = try? await catalog.volume(snapshot.volumeId),
            let host = try? await catalog.host(named: volume.host),
            let hypervisor = try? await hosts.hypervisor(for: host)
        else { return }
        let stillNeeded = ((try? await catalog.snapshots()) ?? []).contains {
            $0.checkpoint == checkpoint && ($0.state == .completed || $0.state == .pending)
        }
        if let instanceId = snapshot.instanceId, let instance = try? await catalog.instance(instanceId) {
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
