import Foundation
import Testing

@testable import SnaplabCore

/// Snapshot, image and policy-run states move only along the catalog's table, and a move changes only what it
/// is about.
@Suite struct TransitionTests {
    let catalog: Catalog

    init() async throws {
        catalog = try Catalog.inMemory()
        try await catalog.save(Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p"))
    }

    func pendingSnapshot() async throws -> Snapshot {
        let volumeId = ResourceID.generate(.volume)
        try await catalog.insert(
            Volume(
                id: volumeId, host: "local", role: .data, size: 1 << 20, state: .available,
                poolVolume: "\(volumeId).qcow2", path: "/p/\(volumeId).qcow2"))
        let snapshot = Snapshot(
            id: ResourceID.generate(.snapshot), volumeId: volumeId, volumeRole: .data,
            volumeSize: 1 << 20, state: .pending)
        try await catalog.insertPending([snapshot])
        return snapshot
    }

    @Test func aTagWrittenWhilePendingSurvivesCompletion() async throws {
        let snapshot = try await pendingSnapshot()
        var tagged = try await catalog.snapshot(snapshot.id)
        tagged.tags["owner"] = "ops"
        tagged.pinned = true
        try await catalog.update(tagged)

        let completed = try await catalog.completeSnapshot(snapshot.id) { $0.bytesStored = 42 }
        #expect(completed.state == .completed && completed.bytesStored == 42)
        #expect(completed.tags["owner"] == "ops" && completed.pinned)
        #expect(try await catalog.volume(snapshot.volumeId).lastSnapshotId == snapshot.id)
    }

    @Test func aSettledSnapshotCannotBeSettledAgain() async throws {
        let snapshot = try await pendingSnapshot()
        try await catalog.failSnapshot(snapshot.id, reason: "interrupted")
        await #expect {
            try await catalog.completeSnapshot(snapshot.id) { _ in }
        } throws: { error in
            guard let error = error as? SnaplabError else { return false }
            return error.code == .invalidState && error.message.contains("error") && error.message.contains("completed")
        }
        let stored = try await catalog.snapshot(snapshot.id)
        #expect(stored.state == .error && stored.errorMessage == "interrupted")
        #expect(try await catalog.volume(snapshot.volumeId).lastSnapshotId == nil)
    }

    @Test func imagesAndRunsFollowTheirTables() {
        #expect(ImageState.pending.canMove(to: .available))
        #expect(!ImageState.pending.canMove(to: .deregistered))
        #expect(!ImageState.deregistered.canMove(to: .available))
        #expect(PolicyRun.State.running.canMove(to: .interrupted) && PolicyRun.State.interrupted.canMove(to: .running))
        #expect(!PolicyRun.State.succeeded.canMove(to: .running))
        #expect(!SnapshotState.completed.canMove(to: .pending))
    }
}
