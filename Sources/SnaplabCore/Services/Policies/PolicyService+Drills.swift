import Foundation

extension PolicyService {
    /// A restore drill: restores the newest snapshot the policy took of each target into a throw-away volume,
    /// boots a fresh instance of `settings.image` with them, checks each filesystem (`e2fsck -fn`, unmounted)
    /// and runs the user's command through the guest agent, records pass/fail, and removes what it made.
    public func drill(policyId: String, settings override: DrillSettings? = nil) async throws(SnaplabError)
        -> DrillResult
    {
        let policy = try await catalog.policy(policyId)
        guard let settings = override ?? policy.drill else {
            throw SnaplabError(
                .invalidArgument, "policy \(policyId) has no drill settings; pass --image (and --command)")
        }
        let started = Date()
        let taken = try await catalog.snapshots(matching: Self.snapshotsTaken(by: policyId)).filter {
            $0.volumeRole == .data
        }
        let newest = Dictionary(grouping: taken, by: \.volumeId).compactMap { _, snapshots in
            snapshots.max { (Self.slotTime(of: $0) ?? $0.createdAt) < (Self.slotTime(of: $1) ?? $1.createdAt) }
        }.sorted { $0.volumeId < $1.volumeId }
        guard !newest.isEmpty else {
            throw SnaplabError(.invalidState, "policy \(policyId) has no completed data-volume snapshot to drill")
        }
        var result = DrillResult(policyId: policyId, startedAt: started, endedAt: started, passed: false, targets: [])
        var restored: [Volume] = []
        var instanceId: String?
        do throws(SnaplabError) {
            for snapshot in newest {
                restored.append(try await snapshots.restore(snapshot.id, tags: ["snaplab:drill": policyId]))
            }
            let instance = try await launchForDrill(image: settings.image, dataVolumes: restored)
            instanceId = instance.id
            result.instanceId = instance.id
            var passed = true
            for (position, snapshot) in newest.enumerated() {
                let device = LaunchRequest.dataDevice(position)
                let mountpoint = position == 0 ? "/data" : "/data\(position + 1)"
                let check = try await instances.exec(
                    instance.id,
                    [
                        "/bin/sh", "-c",
                        "umount \(mountpoint) 2>/dev/null; /usr/sbin/e2fsck -fn /dev/\(device); rc=$?; mount /dev/\(device) \(mountpoint); exit $rc",
                    ],
                    timeout: .seconds(300))
                var target = DrillResult.Target(
                    volumeId: snapshot.volumeId, snapshotId: snapshot.id,
                    filesystemCheck: check.exitCode, output: check.stdout + check.stderr)
                passed = passed && check.exitCode == 0
                if let command = settings.command {
                    let outcome = try await instances.exec(
                        instance.id, ["/bin/sh", "-c", "cd \(mountpoint) && \(command)"],
                        timeout: .seconds(300))
                    target.commandStatus = outcome.exitCode
                    target.output += outcome.stdout + outcome.stderr
                    passed = passed && outcome.exitCode == 0
                }
                result.targets.append(target)
            }
            result.passed = passed
        } catch {
            result.error = error.message
        }
        if let instanceId {
            await logger.bestEffort("terminating drill instance \(instanceId)") {
                _ = try await instances.terminate(instanceId, deleteDataVolumes: true)
            }
        }
        for volume in restored {
            await logger.bestEffort("deleting drill volume \(volume.id)") { try await volumes.delete(volume.id) }
        }
        result.endedAt = Date()
        return try await catalog.insert(result)
    }

    public func drills(of policyId: String) async throws(SnaplabError) -> [DrillResult] {
        try await catalog.drills(of: policyId)
    }

    /// An instance of `image` (its boot overlay only) with the given volumes as its data disks.
    private func launchForDrill(image reference: String, dataVolumes: [Volume]) async throws(SnaplabError) -> Instance {
        let image = try await images.resolve(reference)
        guard image.state == .available else { throw SnaplabError(.invalidState, "image \(image.id) is deregistered") }
        let host = try await hosts.host(nil)
        let boot = try await bases.bootFiles(of: image)
        let base = try await bases.ensure(snapshotId: image.bootSnapshotId, host: host)
        let overlay = try await images.overlay(
            on: base, role: .boot, host: host, boot: boot, image: image,
            tags: ["snaplab:drill": "yes"], origin: "drill on image \(image.id)")
        var request = LaunchRequest(
            bootVolumeId: overlay.id,
            dataVolumes: dataVolumes.map { .init(volumeId: $0.id, deleteOnTermination: true) },
            memoryMiB: image.memoryMiB, vcpus: image.vcpus, tags: ["snaplab:drill": "yes"])
        request.imageId = image.id
        do throws(SnaplabError) {
            return try await instances.run(request)
        } catch {
            // A guest that did not boot stays defined (to read its console): remove it with its overlay.
            if let stuck = try? await catalog.volume(overlay.id).instanceId {
                await logger.bestEffort("instances.terminate") { _ = try await instances.terminate(stuck) }
            }
            await logger.bestEffort("volumes.delete") { try await volumes.delete(overlay.id) }
            throw error
        }
    }
}
