import Foundation

extension Lab {
    /// Removes what a killed restore or hydration left: a volume still `creating`, or a base still `hydrating`,
    /// whose filling process is gone. Their qcow2 files hold part of a snapshot and nothing may use them; a new
    /// restore or launch starts over.
    public func recoverInterruptedRestores() async throws(SnaplabError) {
        for volume in try await catalog.volumes() where volume.state == .creating {
            guard let pid = volume.workerPid, let start = volume.workerStartTime,
                  !ProcessIdentity(pid: pid, startTime: start).isAlive
            else { continue }
            let host = try await catalog.host(named: volume.host)
            try await hypervisor(for: host).deleteVolume(pool: host.poolName, name: volume.poolVolume)
            try await catalog.deleteVolume(volume.id)
        }
        for base in try await catalog.bases() where base.state == .hydrating {
            guard let pid = base.workerPid, let start = base.workerStartTime,
                  !ProcessIdentity(pid: pid, startTime: start).isAlive
            else { continue }
            let host = try await catalog.host(named: base.host)
            try await hypervisor(for: host).deleteVolume(pool: host.poolName, name: base.poolVolume)
            try await catalog.deleteBase(snapshot: base.snapshotId, host: base.host)
        }
    }
}
