import Foundation

/// `snaplab host evacuate`: the snapshot pattern's disaster recovery. The instances of a lost host are launched
/// again on the remaining hosts from their volumes' latest completed snapshots (a boot volume never snapshotted
/// comes from the instance's image), each recording what it lost: the time since the snapshot it came back from.
/// Fenced first: a host whose libvirt answers has its domains destroyed before anything is relaunched; one that
/// does not answer may still run them, so that needs `force` (the operator has powered it off).
public struct HostEvacuation: Sendable {
    public struct Relaunch: Sendable, Codable {
        public var instanceId: String
        public var newInstanceId: String?
        /// The snapshots (or image snapshot) each device came back from; a device with none came back empty.
        public var sources: [String: String]
        /// Seconds between the oldest of those snapshots and the relaunch: what the instance lost.
        public var lostSeconds: Double?
        public var error: String?
    }

    public struct Report: Sendable, Codable {
        public var host: String
        /// How the host was fenced: its domains destroyed through its libvirt, or forced (it did not answer).
        public var fencing: String
        public var relaunches: [Relaunch]
    }

    let lab: Lab

    public init(lab: Lab) {
        self.lab = lab
    }

    public func evacuate(_ name: String, to target: String? = nil, force: Bool = false) async throws(SnaplabError)
        -> Report
    {
        let lost = try await lab.catalog.host(named: name)
        let remaining = try await lab.catalog.hosts().filter { $0.name != name }
        guard let destination = target.map({ wanted in remaining.first { $0.name == wanted } }) ?? remaining.first
        else {
            throw SnaplabError(
                .invalidArgument,
                target.map { "host \($0) is not another host of the lab" }
                    ?? "the lab has no other host to relaunch on; `snaplab host add` one first")
        }
        let instances = try await lab.catalog.instances().filter { $0.host == name && $0.state != .terminated }
        let fencing = try await fence(lost, instances: instances, force: force)
        var relaunches: [Relaunch] = []
        for instance in instances {
            let reason = "evacuated from host \(name) (\(fencing))"
            guard try await lab.catalog.claimForEvacuation(instance.id, reason: reason) else { continue }
            relaunches.append(await relaunch(instance, on: destination, reason: reason))
        }
        return Report(host: name, fencing: fencing, relaunches: relaunches)
    }

    /// Makes sure the host runs none of the instances: destroys their domains where its libvirt answers.
    private func fence(_ host: Host, instances: [Instance], force: Bool) async throws(SnaplabError) -> String {
        let hypervisor: Hypervisor
        do throws(SnaplabError) {
            hypervisor = try await Hypervisor.connect(uri: host.uri)
        } catch {
            guard force else {
                throw SnaplabError(
                    .invalidState,
                    "host \(host.name) does not answer (\(error.message)); its instances may still be running there. Power it off (or make sure its qemu processes are gone) and run `snaplab host evacuate \(host.name) --force`"
                )
            }
            return "forced: the host did not answer"
        }
        for instance in instances {
            try await hypervisor.destroyDomain(name: instance.domainName)
        }
        return "fenced: its domains were destroyed through its libvirt"
    }

    private func relaunch(_ instance: Instance, on destination: Host, reason: String) async -> Relaunch {
        var result = Relaunch(instanceId: instance.id, sources: [:])
        var restored: [Volume] = []
        do throws(SnaplabError) {
            let attached = try await lab.catalog.volumes(attachedTo: instance.id).sorted {
                ($0.device ?? "") < ($1.device ?? "")
            }
            var oldest: Date?
            for volume in attached {
                let source = try await latestSource(of: volume, instance: instance)
                let made: Volume
                if let source {
                    made = try await lab.snapshots.restore(source.id, host: destination.name)
                    result.sources[volume.device ?? volume.id] = source.id
                    oldest = min(oldest ?? source.createdAt, source.createdAt)
                } else {
                    made = try await lab.volumes.create(role: volume.role, size: volume.size, host: destination.name)
                    result.sources[volume.device ?? volume.id] = "empty"
                }
                restored.append(made)
            }
            guard let boot = restored.first(where: { $0.role == .boot }) else {
                throw SnaplabError(.invalidState, "instance \(instance.id) has no boot volume to relaunch from")
            }
            result.lostSeconds = oldest.map { Date().timeIntervalSince($0) }
            var request = LaunchRequest(
                bootVolumeId: boot.id,
                dataVolumes: restored.filter { $0.role == .data }.map { .init(volumeId: $0.id) })
            request.memoryMiB = instance.memoryMiB
            request.vcpus = instance.vcpus
            request.imageId = instance.imageId
            request.tags = instance.tags.merging(["snaplab:evacuated-from": instance.id]) { $1 }
            let relaunched = try await lab.instances.run(request)
            result.newInstanceId = relaunched.id
            let lostText = result.lostSeconds.map { String(format: "%.0f s", $0) } ?? "everything"
            _ = try await lab.catalog.finishEvacuation(
                instance.id,
                reason: "\(reason); relaunched as \(relaunched.id) on \(destination.name), lost \(lostText)",
                stale: "evacuated with \(instance.id)")
        } catch {
            // The instance stays claimed (shutting-down, with why): what was restored for it goes again.
            result.error = error.message
            for volume in restored where result.newInstanceId == nil {
                try? await lab.volumes.delete(volume.id)
            }
        }
        return result
    }

    /// The newest completed snapshot of the volume; for a boot volume never snapshotted, its image's.
    private func latestSource(of volume: Volume, instance: Instance) async throws(SnaplabError) -> Snapshot? {
        let snapshots = try await lab.catalog.snapshots(
            matching: SnapshotQuery(volumeIds: [volume.id], states: [.completed], limit: 1))
        if let newest = snapshots.last { return newest }
        guard volume.role == .boot, let imageId = instance.imageId else { return nil }
        let image = try await lab.catalog.image(imageId)
        return try await lab.catalog.snapshot(image.bootSnapshotId)
    }
}
