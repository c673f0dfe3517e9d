import Foundation
import Testing

@testable import SnapshotStore

/// One damaged index object costs the chunks it describes until `repair` rebuilds it from the packs; it never
/// makes the store unopenable.
@Suite struct StoreRepairTests {
    @Test func aDamagedIndexIsReportedAndRebuiltFromThePacks() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        let chunks: [UInt32: Data] = [0: StoreFixture.chunk(1), 4: StoreFixture.chunk(2), 7: StoreFixture.chunk(3)]
        try await fixture.writeSnapshot("snap-a", chunks, volumeSize: 1 << 20)
        let index = try #require(try await fixture.store.backend.list(prefix: StoreLayout.indexPrefix).first)
        // An entry whose payload would start inside its own record header (offset < 45).
        var bytes = try await fixture.store.backend.get(index)
        bytes.replaceSubrange(
            (PackFormat.indexHeaderSize + 48)..<(PackFormat.indexHeaderSize + 52), with: [3, 0, 0, 0])
        try await fixture.store.backend.put(index, bytes)

        let reopened = try await SnapshotStore.open(DirectoryBackend(root: fixture.directory))
        #expect(reopened.index.unreadableObjects[index]?.contains("impossible place") == true)
        let damaged = try await reopened.verify()
        #expect(damaged.unreadableIndexes[index] != nil && damaged.brokenSnapshots["snap-a"] == 3)
        await #expect(throws: StoreError.self) { _ = try await reopened.collectGarbage() }

        let report = try await reopened.repair()
        #expect(report.indexesReplaced == [index] && report.chunksIndexed == 3 && report.damagedStretches == 0)
        #expect(try await reopened.verify().isClean)
        #expect(try await StoreFixture(directory: fixture.directory, store: reopened).readSnapshot("snap-a") == chunks)
    }

    @Test func aPackNoIndexDescribesIsIndexedAndItsDamagedStretchSkipped() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        let chunks: [UInt32: Data] = [0: StoreFixture.chunk(1), 1: StoreFixture.chunk(2), 2: StoreFixture.chunk(3)]
        try await fixture.writeSnapshot("snap-a", chunks, volumeSize: 1 << 20)
        // As a writer killed before its index was written would leave it, with the first record damaged.
        for key in try await fixture.store.backend.list(prefix: StoreLayout.indexPrefix) {
            try await fixture.store.backend.delete(key)
        }
        let pack = try #require(try await fixture.store.backend.list(prefix: StoreLayout.packsPrefix).first)
        try await fixture.tamper(pack, at: 100)

        let reopened = try await SnapshotStore.open(DirectoryBackend(root: fixture.directory))
        let report = try await reopened.repair()
        #expect(report.packsScanned == 1 && report.chunksIndexed == 2 && report.damagedStretches == 1)
        let verified = try await reopened.verify()
        #expect(verified.brokenSnapshots["snap-a"] == 1, "only the damaged chunk is missing")
    }
}
