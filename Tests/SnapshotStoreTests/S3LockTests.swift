import Foundation
import Testing

@testable import SnapshotStore

/// S3 store locks go stale after the documented two minutes without a refresh, and not before.
@Suite struct S3LockTests {
    func writeLock(_ name: String, refreshedSecondsAgo age: TimeInterval, on store: SnapshotStore) async throws {
        let record = S3Lock.Record(
            exclusive: false, host: "gone", pid: 1, refreshedAt: Date().addingTimeInterval(-age))
        try await store.backend.put("locks/\(name)", try JSONEncoder.store.encode(record))
    }

    @Test func aLockNotRefreshedForThreeMinutesIsStaleAndOneRefreshedJustNowHolds() async throws {
        let fixture = try await StoreFixture.make(.s3)
        defer { fixture.remove() }
        #expect(S3Lock.staleAfter == 120)

        try await writeLock("dead-holder", refreshedSecondsAgo: 180, on: fixture.store)
        try await fixture.store.withStoreLock(exclusive: true, timeout: .seconds(20)) { () async throws(StoreError) in }

        try await writeLock("live-holder", refreshedSecondsAgo: 20, on: fixture.store)
        await #expect(throws: StoreError.self) {
            try await fixture.store.withStoreLock(exclusive: true, timeout: .seconds(3)) {
                () async throws(StoreError) in
            }
        }
    }
}
