import Foundation
import Testing

@testable import SnapshotStore

/// Garbage collection deletes only what it can prove unused: a listing that hides snapshots, an unreadable
/// directory or a pack a writer may still index never costs live data.
@Suite struct GarbageSafetyTests {
    @Test(arguments: BackendKind.allCases)
    func aSnapshotThatVanishedWithoutBeingDeletedStopsTheSweep(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [0: StoreFixture.chunk(1)])
        try await fixture.writeSnapshot("snap-b", [0: StoreFixture.chunk(2)])
        _ = try await fixture.store.collectGarbage()

        // As a listing that lost a page would show it: the manifest is not there, and nobody deleted it.
        try await fixture.store.backend.delete(StoreLayout.manifest("snap-b"))
        await #expect {
            _ = try await fixture.store.collectGarbage()
        } throws: { error in
            let message = (error as? StoreError)?.message ?? ""
            return message.contains("snap-b") && message.contains("--accept-missing")
        }
        #expect(fixture.store.index.count == 2, "nothing was swept")

        let report = try await fixture.store.collectGarbage(options: GarbageOptions(acceptMissing: true))
        #expect(report.chunksRemoved == 1)
        #expect(try await fixture.readSnapshot("snap-a") == [0: StoreFixture.chunk(1)])
    }

    @Test(arguments: BackendKind.allCases)
    func snapshotsDeletedThroughTheStoreAreSweptAndTheirTombstonesCleared(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [0: StoreFixture.chunk(1)])
        try await fixture.writeSnapshot("snap-b", [0: StoreFixture.chunk(2)])
        _ = try await fixture.store.collectGarbage()
        try await fixture.store.deleteSnapshot("snap-b")
        #expect(try await fixture.store.backend.list(prefix: StoreLayout.tombstonesPrefix).count == 1)

        let report = try await fixture.store.collectGarbage()
        #expect(report.chunksRemoved == 1)
        #expect(try await fixture.store.backend.list(prefix: StoreLayout.tombstonesPrefix).isEmpty)
        // The next collection compares with a mark that no longer names snap-b.
        #expect(try await fixture.store.collectGarbage().chunksRemoved == 0)
    }

    @Test func aPackNoIndexDescribesIsKeptUntilItIsOlderThanTheGracePeriod() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [0: StoreFixture.chunk(1)])
        let orphan = StoreLayout.pack(PackID.random())
        try await fixture.store.backend.put(orphan, Data(count: 4096))

        let young = try await fixture.store.collectGarbage()
        #expect(young.unindexedPacksKept == 1 && young.packsDeleted == 0)
        #expect(try await fixture.store.backend.exists(orphan))

        let path = fixture.directory.appendingPathComponent(orphan).path
        let twoHoursAgo = Date().addingTimeInterval(-7200)
        try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: path)
        let old = try await fixture.store.collectGarbage()
        #expect(old.unindexedPacksKept == 0 && old.packsDeleted == 1)
        #expect(try await fixture.store.backend.exists(orphan) == false)
        #expect(try await fixture.readSnapshot("snap-a") == [0: StoreFixture.chunk(1)])
    }

    @Test func anS3PackNoIndexDescribesIsKeptWhileYoung() async throws {
        let fixture = try await StoreFixture.make(.s3)
        defer { fixture.remove() }
        let orphan = StoreLayout.pack(PackID.random())
        try await fixture.store.backend.put(orphan, Data(count: 4096))
        let modified = try await fixture.store.backend.modified(orphan)
        #expect(abs(modified.timeIntervalSinceNow) < 600, "Last-Modified is read: \(modified)")
        #expect(try await fixture.store.collectGarbage().unindexedPacksKept == 1)
        let report = try await fixture.store.collectGarbage(options: GarbageOptions(unindexedGrace: .zero))
        #expect(report.packsDeleted == 1)
    }

    @Test func aDirectoryListingThatCannotBeReadIsAnErrorNotAnEmptyList() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [0: StoreFixture.chunk(1)])
        // Root reads any directory; a file where the snapshots directory should be is what it cannot list.
        let snapshots = fixture.directory.appendingPathComponent(StoreLayout.snapshotsPrefix)
        try FileManager.default.removeItem(at: snapshots)
        #expect(FileManager.default.createFile(atPath: snapshots.path, contents: Data("x".utf8)))
        await #expect(throws: StoreError.self) { _ = try await fixture.store.snapshotIds() }
        await #expect(throws: StoreError.self) { _ = try await fixture.store.collectGarbage() }
        #expect(fixture.store.index.count == 1)
    }

    @Test func anS3ListingThatDoesNotParseIsAnError() throws {
        #expect(throws: StoreError.self) { _ = try ListBucketResult(Data("<ListBucketResult><Key>a".utf8), from: "s3") }
        #expect(throws: StoreError.self) { _ = try ListBucketResult(Data("<Error/>".utf8), from: "s3") }
        #expect(throws: StoreError.self) {
            _ = try ListBucketResult(
                Data("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>".utf8), from: "s3")
        }
        let page = try ListBucketResult(
            Data("<ListBucketResult><Key>a</Key><Key>b</Key><IsTruncated>false</IsTruncated></ListBucketResult>".utf8),
            from: "s3")
        #expect(page.keys == ["a", "b"] && page.nextToken == nil)
    }
}
