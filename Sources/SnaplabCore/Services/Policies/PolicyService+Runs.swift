import Faults
import Foundation

extension PolicyService {
    /// Runs every enabled policy that has a slot due at `now` (the latest one only: missed slots are caught up
    /// by one run, not a burst). `now` comes from the scheduler's clock, so tests can run days in seconds.
    public func runDue(now: Date) async throws(SnaplabError) -> [PolicyRun] {
        var runs: [PolicyRun] = []
        for policy in try await catalog.policies() where policy.enabled {
            guard let slot = try policy.schedule.latestSlot(atOrBefore: now, anchor: policy.anchor) else { continue }
            if let done = try await catalog.lastFinishedSlot(of: policy.id), done >= slot { continue }
            if let run = try await run(policy.id, slot: slot) { runs.append(run) }
        }
        return runs
    }

    /// Runs a policy for one slot (now, for `run-now`): snapshots its targets, then prunes by its retention.
    /// Returns nil when the slot is already done or another live process is running it.
    public func run(_ id: String, slot: Date? = nil) async throws(SnaplabError) -> PolicyRun? {
        let policy = try await catalog.policy(id)
        let slot = slot ?? Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        let owner = ProcessIdentity.current
        guard
            var run = try await catalog.claimRun(
                policyId: id, slot: slot, owner: (owner.pid, owner.startTime),
                isAlive: { ProcessIdentity(pid: $0, startTime: $1).isAlive })
        else { return nil }
        do throws(SnaplabError) {
            return try await carryOut(&run, policy: policy, slot: slot)
        } catch {
            // Whatever stopped the run, it ends recorded (else its slot would look taken until a restart).
            run.errors.append(error.message)
            do throws(SnaplabError) {
                try await end(run, as: .failed)
            } catch let recording {
                logger.error(
                    "cannot record the failed run", metadata: ["policy": "\(id)", "error": "\(recording.message)"])
            }
            throw error
        }
    }

    private func carryOut(_ run: inout PolicyRun, policy: Policy, slot: Date) async throws(SnaplabError) -> PolicyRun {
        let id = policy.id
        // A killed run left pending snapshots: mark them error before retrying.
        try await copies.recoverInterrupted()

        let slotText = Self.slotText(slot)
        let tags = [Self.policyTag: id, Self.slotTag: slotText]
        let options = SnapshotOptions(
            description: "policy \(policy.name) (\(slotText))", tags: tags, freeze: policy.freeze)
        let targets = try await targets(of: policy)
        if targets.isEmpty {
            run.warnings.append("the target (\(Printable.tags(policy.targetTags))) matches nothing: no snapshot taken")
        }
        var ofThisSlot = Self.snapshotsTaken(by: id)
        ofThisSlot.tags.append(TagFilter.exactly(Self.slotTag, slotText))
        let alreadyTaken = try await catalog.snapshots(matching: ofThisSlot)
        for volume in targets.volumes where !alreadyTaken.contains(where: { $0.volumeId == volume.id }) {
            await take(&run, volume.id, wantsFreeze: policy.freeze) { () async throws(SnaplabError) in
                [try await self.snapshots.create(volumeId: volume.id, options: options)]
            }
        }
        for instance in targets.instances {
            let volumeIds = Set(try await catalog.volumes(attachedTo: instance.id).map(\.id))
            if alreadyTaken.contains(where: { volumeIds.contains($0.volumeId) }) { continue }
            await take(&run, instance.id, wantsFreeze: policy.freeze) { () async throws(SnaplabError) in
                try await self.snapshots.createSet(instanceId: instance.id, options: options)
            }
        }
        FaultPoint.reach(.policyBeforePrune)
        do throws(SnaplabError) {
            let outcome = try await prune(policy, now: slot)
            run.snapshotsPruned += outcome.pruned
            run.warnings += outcome.kept.map { "kept \($0.id) past its retention: \($0.reason)" }
        } catch {
            run.errors.append("pruning: \(error.message)")
        }
        return try await end(run, as: run.errors.isEmpty ? .succeeded : .failed)
    }

    /// Records how a run ended, with what it took, pruned and met on the way.
    @discardableResult
    private func end(_ run: PolicyRun, as outcome: PolicyRun.State) async throws(SnaplabError) -> PolicyRun {
        guard let key = run.id else { throw SnaplabError(.internal, "policy run of \(run.policyId) has no id") }
        let ended = run
        return try await catalog.transition(PolicyRun.self, key, to: outcome) { row in
            row.endedAt = Date()
            row.snapshotsTaken = ended.snapshotsTaken
            row.snapshotsPruned = ended.snapshotsPruned
            row.errors = ended.errors
            row.warnings = ended.warnings
        }
    }

    private func take(
        _ run: inout PolicyRun, _ target: String, wantsFreeze: Bool,
        _ create: () async throws(SnaplabError) -> [Snapshot]
    ) async {
        do throws(SnaplabError) {
            for snapshot in try await create() {
                run.snapshotsTaken.append(snapshot.id)
                try await catalog.update(run)
                let finished = try await snapshots.wait(for: snapshot.id)
                if finished.state != .completed {
                    run.errors.append("\(target): snapshot \(snapshot.id) failed: \(finished.errorMessage ?? "")")
                }
                if wantsFreeze, finished.consistency == .crash {
                    run.warnings.append(
                        "\(target): fell back to crash consistency (\(finished.consistencyNote ?? "no reason given"))")
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
        var pruned: [String] = []
        var kept: [(id: String, reason: String)] = []
        for id in try await pruneDecision(policy, now: now) {
            do throws(SnaplabError) {
                try await snapshots.delete(id)
                pruned.append(id)
            } catch  where error.code == .conflict {
                kept.append((id, error.message))
            }
        }
        return (pruned, kept)
    }

    /// The policy's snapshots its retention no longer keeps: found by the policy's tag in the catalog, planned
    /// volume by volume, deleted by nobody yet.
    public func pruneDecision(_ policy: Policy, now: Date) async throws(SnaplabError) -> [String] {
        let zone = try policy.schedule.zone()
        let taken = try await catalog.snapshots(matching: Self.snapshotsTaken(by: policy.id))
        var doomed: [String] = []
        for (_, ofOneVolume) in Dictionary(grouping: taken, by: \.volumeId) {
            let candidates = ofOneVolume.compactMap { snapshot in
                Self.slotTime(of: snapshot).map {
                    RetentionPlan.Candidate(id: snapshot.id, time: $0, pinned: snapshot.pinned)
                }
            }
            let keep = RetentionPlan.keep(candidates, retention: policy.retention, now: now, timeZone: zone)
            doomed += candidates.filter { !keep.contains($0.id) }.map(\.id)
        }
        return doomed
    }
}
