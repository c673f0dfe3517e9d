import Foundation

/// What "restore to an instance" gives: a new instance booted from a boot snapshot, or a data snapshot's new
/// volume attached to an instance.
public struct RestoredToInstance: Codable, Sendable {
    public var volume: Volume
    public var instance: Instance
    /// True when the instance is new (a boot snapshot), false when the volume joined an existing one.
    public var launched: Bool
}

extension Lab {
    /// Restores a snapshot into a new volume and puts it to use at once: a boot snapshot boots a new instance
    /// (on the same host, not waiting for the guest), a data snapshot is attached to `instanceId`. The restored
    /// volume is removed again when the launch or attach fails, so nothing half-done is left.
    public func restoreToInstance(_ snapshotId: String, instanceId: String? = nil, memoryMiB: Int = 256)
        async throws(SnaplabError) -> RestoredToInstance
    {
        let snapshot = try await snapshots.get(snapshotId)
        var target: Instance?
        switch snapshot.volumeRole {
        case .boot:
            if let instanceId {
                throw SnaplabError(
                    .invalidArgument,
                    "snapshot \(snapshotId) is of a boot volume: it boots a new instance; leave out the instance (\(instanceId))"
                )
            }
        case .data:
            guard let instanceId else {
                throw SnaplabError(
                    .invalidArgument, "snapshot \(snapshotId) is of a data volume: name the instance to attach it to")
            }
            target = try await instances.get(instanceId)
        }
        let volume = try await snapshots.restore(snapshotId, host: target?.host)
        do throws(SnaplabError) {
            if let target {
                let attached = try await instances.attach(volume.id, to: target.id)
                return RestoredToInstance(
                    volume: attached, instance: try await instances.get(target.id), launched: false)
            }
            var request = LaunchRequest(bootVolumeId: volume.id, memoryMiB: memoryMiB)
            request.waitUntilReady = false
            let instance = try await instances.run(request)
            return RestoredToInstance(volume: try await volumes.get(volume.id), instance: instance, launched: true)
        } catch {
            if (try? await volumes.get(volume.id))?.instanceId == nil { try? await volumes.delete(volume.id) }
            throw error
        }
    }
}
