import Foundation

extension Lab {
    /// Marks `error` every pending snapshot whose copying process is gone (killed, crashed, machine rebooted)
    /// and undoes what its capture left: the backup job, the checkpoint or bitmap, the export directory. The
    /// store never saw its manifest, so it is not listed there; its packs are garbage for `store gc`.
    public func recoverInterruptedSnapshots() async throws(SnaplabError) {
        let local = copies.withLock { Set($0.keys) }
        for var snapshot in try await catalog.snapshots(state: .pending) {
            if local.contains(snapshot.id) { continue }
            if let pid = snapshot.workerPid, let start = snapshot.workerStartTime,
               ProcessIdentity(pid: pid, startTime: start).isAlive {
                continue
            }
            snapshot.state = .error
            snapshot.errorMessage = "interrupted: the process copying it (pid \(snapshot.workerPid.map(String.init) ?? "?")) ended before the copy finished; take a new snapshot"
            snapshot.workerPid = nil
            snapshot.workerStartTime = nil
            try await catalog.update(snapshot)
            await cleanUpInterrupted(snapshot)
        }
    }

    private func cleanUpInterrupted(_ snapshot: Snapshot) async {
        guard let checkpoint = snapshot.checkpoint,
              let volume = try? await catalog.volume(snapshot.volumeId),
              let host = try? await catalog.host(named: volume.host),
              let hypervisor = try? await hypervisor(for: host)
        else { return }
        let stillNeeded = ((try? await catalog.snapshots()) ?? []).contains {
            $0.checkpoint == checkpoint && ($0.state == .completed || $0.state == .pending)
        }
        if let instanceId = snapshot.instanceId, let instance = try? await catalog.instance(instanceId) {
            let otherCopies = ((try? await catalog.snapshots(state: .pending)) ?? []).contains {
                $0.instanceId == instanceId
            }
            if !otherCopies { try? await hypervisor.endBackup(domain: instance.domainName) }
            if !stillNeeded {
                try? await hypervisor.deleteCheckpoint(domain: instance.domainName, checkpoint: checkpoint,
                                                       metadataOnly: false)
            }
            try? FileManager.default.removeItem(at: paths.exports.appendingPathComponent(checkpoint))
        } else if !stillNeeded, (try? await volumeIsInRunningUse(volume)) == false {
            await removeBitmapIfPresent(checkpoint, from: volume.path)
        }
    }
}
