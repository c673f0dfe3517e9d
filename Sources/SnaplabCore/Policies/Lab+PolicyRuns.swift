import Foundation

extension Lab {
    /// Runs every enabled policy that has a slot due at `now` (the latest one only: missed slots are caught up
    /// by one run, not a burst). `now` comes from the scheduler's clock, so tests can run days in seconds.
    public func runDuePolicies(now: Date) async throws(SnaplabError) -> [PolicyRun] {
        var runs: [PolicyRun] = []
        for policy in try await catalog.policies() where policy.enabled {
            guard let slot = try policy.schedule.latestSlot(atOrBefore: now, anchor: policy.anchor) else { continue }
            if let done = try await catalog.lastFinishedSlot(of: policy.id), done >= slot { continue }
            if let run = try await runPolicy(policy.id, slot: slot) { runs.append(run) }
        }
        return runs
    }

    /// Runs a policy for one slot (now, for `run-now`): snapshots its targets, then prunes by its retention.
    /// Returns nil when the slot is already done or another live process is running it.
    public func runPolicy(_ id: String, slot: Date? = nil) async throws(SnaplabError) -> PolicyRun? {
        let policy = try await catalog.policy(id)
        let slot = slot ?? Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let owner = ProcessIdentity.current
        guard var run = try await catalog.claimRun(
            policyId: id, slot: slot, owner: (owner.pid, owner.startTime),
            isAlive: { ProcessIdentity(pid: $0, startTime: $1).isAlive })
        else { return nil }
        do throws(SnaplabError) {
            return try await carryOut(&run, policy: policy, slot: slot)
        } catch {
            // Whatever stopped the run, it ends recorded (else its slot would look taken until a restart).
            run.errors.append(error.message)
            run.state = .failed
            run.endedAt = Date()
            try? await catalog.update(run)
            throw error
        }
    }

    private func carryOut(_ run: inout PolicyRun, policy: Policy, slot: Date) async throws(SnaplabError) -> PolicyRun {
        let id = policy.id
        // A killed run left pending snapshots: mark them error before retrying.
        try await recoverInterruptedSnapshots()

        let slotText = Self.slotText(slot)
        let tags = [Self.policyTag: id, Self.slotTag: slotText]
        let options = SnapshotOptions(description: "policy \(policy.name) (\(slotText))", tags: tags, freeze: policy.freeze)
        let targets = try await targets(of: policy)
        if targets.isEmpty {
            run.warnings.append("the target (\(Printable.tags(policy.targetTags))) matches nothing: no snapshot taken")
        }
        let alreadyTaken = try await catalog.snapshots().filter {
            $0.tags[Self.policyTag] == id && $0.tags[Self.slotTag] == slotText && $0.state == .completed
        }
        for volume in targets.volumes where !alreadyTaken.contains(where: { $0.volumeId == volume.id }) {
            await take(&run, volume.id, wantsFreeze: policy.freeze) { () async throws(SnaplabError) in
                [try await self.createSnapshot(volumeId: volume.id, options: options)]
            }
        }
        for instance in targets.instances {
            let volumeIds = Set(try await catalog.volumes(attachedTo: instance.id).map(\.id))
            if alreadyTaken.contains(where: { volumeIds.contains($0.volumeId) }) { continue }
            await take(&run, instance.id, wantsFreeze: policy.freeze) { () async throws(SnaplabError) in
                try await self.createSnapshotSet(instanceId: instance.id, options: options)
            }
        }
        do throws(SnaplabError) {
            let outcome = try await prune(policy, now: slot)
            run.snapshotsPruned += outcome.pruned
            run.warnings += outcome.kept.map { "kept \($0.id) past its retention: \($0.reason)" }
        } catch {
            run.errors.append("pruning: \(error.message)")
        }
        run.state = run.errors.isEmpty ? .succeeded : .failed
        run.endedAt = Date()
        try await catalog.update(run)
        return run
    }

    private func take(_ run: inout PolicyRun, _ target: String, wantsFreeze: Bool,
                      _ create: () async throws(SnaplabError) -> [Snapshot]) async {
        do throws(SnaplabError) {
            for snapshot in try await create() {
                run.snapshotsTaken.append(snapshot.id)
                try await catalog.update(run)
                let finished = try await waitForSnapshot(snapshot.id)
                if finished.state != .completed {
                    run.errors.append("\(target): snapshot \(snapshot.id) failed: \(finished.errorMessage ?? "")")
                }
                if wantsFreeze, finished.consistency == .crash {
                    run.warnings.append("\(target): fell back to crash consistency (\(finished.consistencyNote ?? "no reason given"))")
                }
            }
        } catch {
            run.errors.append("\(target): \(error.message)")
        }
    }

    /// Deletes the policy's snapshots its retention no longer keeps, volume by volume. Manual and pinned
    /// snapshots are never touched; one an image uses is kept (with a warning in the run).
    public func prune(_ policy: Policy, now: Date) async throws(SnaplabError)
        -> (pruned: [String], kept: [(id: String, reason: String)])
    {
        let zone = try policy.schedule.zone()
        let taken = try await catalog.snapshots().filter { $0.tags[Self.policyTag] == policy.id && $0.state == .completed }
        var pruned: [String] = []
        var kept: [(id: String, reason: String)] = []
        for (_, snapshots) in Dictionary(grouping: taken, by: \.volumeId) {
            let candidates = snapshots.compactMap { snapshot in
                Self.slotTime(of: snapshot).map { RetentionPlan.Candidate(id: snapshot.id, time: $0, pinned: snapshot.pinned) }
            }
            let keep = RetentionPlan.keep(candidates, retention: policy.retention, now: now, timeZone: zone)
            for candidate in candidates where !keep.contains(candidate.id) {
                do throws(SnaplabError) {
                    try await deleteSnapshot(candidate.id)
                    pruned.append(candidate.id)
                } catch where error.code == .conflict {
                    kept.append((candidate.id, error.message))
                }
            }
        }
        return (pruned, kept)
    }

    /// Pins or unpins a snapshot: a pinned snapshot is never pruned by a policy.
    public func setPinned(_ id: String, _ pinned: Bool) async throws(SnaplabError) -> Snapshot {
        var snapshot = try await catalog.snapshot(id)
        snapshot.pinned = pinned
        try await catalog.update(snapshot)
        return snapshot
    }
}
