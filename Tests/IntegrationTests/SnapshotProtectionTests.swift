import Foundation
import SnaplabCore
import SnapshotStore
import Testing

/// Locks and the recycle bin on a real lab: what refuses a delete or a prune, what a recovered snapshot holds,
/// what `store gc` keeps, and what a catalog rebuilt from the store remembers.
@Suite struct SnapshotProtectionTests {
    @Test func locksRefuseDeletesAndPrunesUntilLifted() async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            let volume = try await lab.volumes.create(role: .data, size: 16 << 20, tags: ["backup": "locked"])
            try HostTools.fillRandom(volume.path, mebibytes: 2)
            let anchor = Date().addingTimeInterval(-3600)
            let (policy, _) = try await lab.policies.create(
                PolicyRequest(
                    name: "locked", targetTags: ["backup": "locked"], schedule: PolicySchedule(intervalSeconds: 60),
                    anchor: anchor, retention: Retention(keepLast: 1)))
            let first = try #require(try await lab.policies.run(policy.id, slot: anchor.addingTimeInterval(60)))
            let taken = try #require(first.snapshotsTaken.first)

            let compliance = try await lab.snapshots.lock(
                taken, SnapshotLockRequest(mode: .compliance, duration: .days(2)))
            #expect(compliance.lock?.state() == .compliance)
            await #expect(throws: SnaplabError.self) { try await lab.snapshots.delete(taken) }
            await #expect(throws: SnaplabError.self) { try await lab.snapshots.unlock(taken) }
            await #expect(throws: SnaplabError.self) {
                try await lab.snapshots.lock(taken, SnapshotLockRequest(mode: .compliance, duration: .days(1)))
            }
            let second = try #require(try await lab.policies.run(policy.id, slot: anchor.addingTimeInterval(120)))
            #expect(second.snapshotsPruned.isEmpty, "retention keeps 1, but the older one is locked")
            #expect(
                second.warnings.contains { $0.contains(taken) && $0.contains("compliance lock") }, "\(second.warnings)")
            #expect(try await lab.snapshots.get(taken).state == .completed)
            #expect(try await lab.snapshots.locked().map(\.id) == [taken])
            // gc after the refused delete and prune: the locked snapshot still restores whole.
            _ = try await lab.store.collectGarbage()
            #expect(try await lab.store.verify().isClean)
            let restored = try await lab.snapshots.restore(taken)
            try HostTools.run("/usr/bin/qemu-img", ["compare", "-q", volume.path, restored.path])

            // A governance lock (on the newer one) comes off with unlock, and the delete then goes through.
            let newer = try #require(second.snapshotsTaken.first)
            _ = try await lab.snapshots.lock(newer, SnapshotLockRequest(mode: .governance, duration: .days(1)))
            do throws(SnaplabError) {
                try await lab.snapshots.delete(newer)
                Issue.record("a governance-locked snapshot was deleted")
            } catch {
                #expect(error.message.contains("governance lock") && error.message.contains("snapshot unlock"))
            }
            #expect(try await lab.snapshots.unlock(newer).lock == nil)
            #expect(try await lab.snapshots.delete(newer) == .deleted)
        }
    }

    @Test func aDeletedSnapshotIsRecoveredFromTheBinAndRestoresBitIdentical() async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            let rule = try await lab.snapshots.createRecycleBinRule(
                RecycleBinRule(retentionDays: 7, resourceTags: ["keep": "bin"]))
            let kept = try await lab.volumes.create(role: .data, size: 16 << 20)
            try HostTools.fillRandom(kept.path, mebibytes: 3)
            let snapshot = try await lab.snapshots.wait(
                for: try await lab.snapshots.create(volumeId: kept.id, options: SnapshotOptions(tags: ["keep": "bin"]))
                    .id)
            let untagged = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: kept.id).id)

            guard case .recycled(let entry) = try await lab.snapshots.delete(snapshot.id) else {
                Issue.record("a snapshot the rule matches was deleted for good")
                return
            }
            #expect(entry.ruleId == rule.id)
            #expect(abs(entry.retainUntil.timeIntervalSince(entry.deletedAt) - 7 * 86_400) < 1)
            #expect(try await lab.snapshots.delete(untagged.id) == .deleted, "no rule matches it")
            #expect(try await lab.snapshots.list().isEmpty, "a recycled snapshot is not listed")
            #expect(try await lab.snapshots.recycleBin().map(\.snapshot.id) == [snapshot.id])
            await #expect(throws: SnaplabError.self) { try await lab.snapshots.restore(snapshot.id) }

            // gc keeps what the bin holds; the snapshot comes back whole.
            _ = try await lab.store.collectGarbage(options: GarbageOptions(acceptMissing: true))
            #expect(try await lab.store.verify().isClean)
            _ = try await lab.snapshots.recover(snapshot.id)
            #expect(try await lab.snapshots.recycleBin().isEmpty)
            let restored = try await lab.snapshots.restore(snapshot.id)
            try HostTools.run("/usr/bin/qemu-img", ["compare", "-q", kept.path, restored.path])

            // Deleted again, then past its retention: purged, and gc reclaims its chunks.
            _ = try await lab.snapshots.delete(snapshot.id)
            #expect(try await lab.snapshots.purgeRecycleBin().isEmpty, "still within its retention")
            #expect(try await lab.snapshots.purgeRecycleBin(at: Date().addingTimeInterval(8 * 86_400)) == [snapshot.id])
            let report = try await lab.store.collectGarbage()
            #expect(report.chunksRemoved > 0, "the purged snapshot's chunks are reclaimed")
            await #expect(throws: SnaplabError.self) { try await lab.snapshots.recover(snapshot.id) }
        }
    }

    @Test func aPolicyPrunesIntoTheBin() async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            _ = try await lab.snapshots.createRecycleBinRule(RecycleBinRule(retentionDays: 2))
            _ = try await lab.volumes.create(role: .data, size: 16 << 20, tags: ["backup": "binned"])
            let anchor = Date().addingTimeInterval(-3600)
            let (policy, _) = try await lab.policies.create(
                PolicyRequest(
                    name: "binned", targetTags: ["backup": "binned"], schedule: PolicySchedule(intervalSeconds: 60),
                    anchor: anchor, retention: Retention(keepLast: 1)))
            let first = try #require(try await lab.policies.run(policy.id, slot: anchor.addingTimeInterval(60)))
            let second = try #require(try await lab.policies.run(policy.id, slot: anchor.addingTimeInterval(120)))
            #expect(second.snapshotsPruned == first.snapshotsTaken)
            #expect(try await lab.snapshots.recycleBin().map(\.snapshot.id) == first.snapshotsTaken)
            #expect(try await lab.snapshots.list().map(\.id) == second.snapshotsTaken)
        }
    }

    @Test func aCatalogRebuiltFromTheStoreKeepsLocksAndTheBin() async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            _ = try await lab.snapshots.createRecycleBinRule(RecycleBinRule(retentionDays: 3))
            let volume = try await lab.volumes.create(role: .data, size: 16 << 20)
            try HostTools.fillRandom(volume.path, mebibytes: 1)
            let locked = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
            let recycled = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
            _ = try await lab.snapshots.lock(locked.id, SnapshotLockRequest(mode: .compliance, duration: .days(3)))
            _ = try await lab.snapshots.delete(recycled.id)

            let elsewhere = testLab.directory.appendingPathComponent("rebuilt")
            let rebuilt = try Lab(paths: LabPaths(stateDirectory: elsewhere))
            try await rebuilt.store.setURL(try await lab.store.url())
            _ = try await rebuilt.store.rebuildCatalog()
            #expect(try await rebuilt.snapshots.get(locked.id).lock == (try await lab.snapshots.get(locked.id).lock))
            await #expect(throws: SnaplabError.self) { try await rebuilt.snapshots.delete(locked.id) }
            #expect(try await rebuilt.snapshots.list().map(\.id) == [locked.id])
            #expect(try await rebuilt.snapshots.recycleBin().map(\.snapshot.id) == [recycled.id])
        }
    }
}
