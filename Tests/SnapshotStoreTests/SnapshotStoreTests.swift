import Foundation
import Testing

@testable import SnapshotStore

@Suite struct SnapshotStoreTests {
    @Test(arguments: BackendKind.allCases)
    func roundTripsChunksAndManifests(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        let chunks: [UInt32: Data] = [
            0: StoreFixture.chunk(1), 7: StoreFixture.chunk(2, random: false),
            1023: StoreFixture.chunk(3),
        ]
        let (written, _) = try await fixture.writeSnapshot("snap-a", chunks)
        let read = try await fixture.store.manifest("snap-a")
        #expect(read == written)
        let table = try await fixture.store.chunkTable(of: read)
        #expect(table.indices == [0, 7, 1023])
        for (index, hash) in table.map {
            #expect(try await fixture.store.readChunk(hash) == chunks[index])
        }
        #expect(try await fixture.readSnapshot("snap-a") == chunks)
        #expect(try await fixture.store.snapshotIds() == ["snap-a"])
    }

    @Test(arguments: BackendKind.allCases)
    func identicalChunksAreStoredOnceAcrossSnapshots(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        let shared = StoreFixture.chunk(42)
        let (_, firstStored) = try await fixture.writeSnapshot(
            "snap-a", [0: shared, 1: shared, 2: StoreFixture.chunk(9)])
        #expect(firstStored < UInt64(3 * shared.count))
        let (_, secondStored) = try await fixture.writeSnapshot("snap-b", [5: shared])
        #expect(secondStored == 0)
        #expect(fixture.store.index.count == 2)
    }

    @Test func compressibleChunksShrinkRandomOnesStayRaw() {
        let compressible = StoreFixture.chunk(5, random: false)
        let random = StoreFixture.chunk(6)
        let (codecA, payloadA) = compressible.withUnsafeBytes { ChunkCompression.encode($0) }
        let (codecB, payloadB) = random.withUnsafeBytes { ChunkCompression.encode($0) }
        #expect(codecA == .zstd && payloadA.count < compressible.count / 3)
        #expect(codecB == .raw && payloadB == random)
    }

    @Test(arguments: BackendKind.allCases)
    func reopeningSeesEverything(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [3: StoreFixture.chunk(3)])
        let reopened = try await SnapshotStore.open(fixture.store.backend)
        #expect(reopened.index.count == 1)
        #expect(try await reopened.manifest("snap-a").table.entries == 1)
        #expect(reopened.config == fixture.store.config)
    }

    @Test(arguments: BackendKind.allCases)
    func verifyFindsAFlippedByteAndNamesTheBrokenSnapshot(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        let chunk = StoreFixture.chunk(11)
        try await fixture.writeSnapshot("snap-a", [0: chunk])
        try await fixture.writeSnapshot("snap-b", [0: StoreFixture.chunk(12)])
        #expect(try await fixture.store.verify().isClean)

        let hash = ChunkHash.of(chunk)
        let location = try #require(fixture.store.index.location(of: hash))
        try await fixture.tamper(StoreLayout.pack(location.packId), at: Int(location.offset) + 100)

        let report = try await fixture.store.verify()
        #expect(!report.isClean)
        #expect(report.badChunks.keys.contains(hash.hex))
        #expect(report.brokenSnapshots == ["snap-a": 1])
        await #expect { _ = try await fixture.store.readChunk(hash) } throws: {
            ($0 as? StoreError)?.kind == .corrupt
        }
    }

    @Test(arguments: BackendKind.allCases)
    func damagedManifestIsDetected(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [0: StoreFixture.chunk(1), 1: StoreFixture.chunk(2)])
        try await fixture.tamper(StoreLayout.table("snap-a"), at: 36 + 10)
        let manifest = try await fixture.store.manifest("snap-a")
        await #expect { _ = try await fixture.store.chunkTable(of: manifest) } throws: {
            ($0 as? StoreError)?.kind == .corrupt
        }
        await #expect { _ = try await fixture.readSnapshot("snap-a") } throws: {
            ($0 as? StoreError)?.kind == .corrupt
        }
        let report = try await fixture.store.verify()
        #expect(report.unreadableManifests.keys.contains("snap-a"))
        await #expect { _ = try await fixture.store.collectGarbage() } throws: {
            ($0 as? StoreError)?.kind == .corrupt
        }
    }

    @Test(arguments: BackendKind.allCases)
    func garbageCollectionKeepsWhatNewerSnapshotsShare(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        let shared = StoreFixture.chunk(100)
        let onlyOld = StoreFixture.chunk(101)
        try await fixture.writeSnapshot("snap-old", [0: shared, 1: onlyOld])
        try await fixture.writeSnapshot("snap-new", [0: shared, 2: StoreFixture.chunk(102)])
        try await fixture.store.deleteSnapshot("snap-old")

        let report = try await fixture.store.collectGarbage(options: GarbageOptions(rewriteWhenDeadFraction: 0.1))
        #expect(report.referencedChunks == 2)
        #expect(report.chunksRemoved == 1)
        #expect(report.bytesReclaimed >= UInt64(onlyOld.count))
        #expect(!fixture.store.index.contains(ChunkHash.of(onlyOld)))
        #expect(try await fixture.store.readChunk(ChunkHash.of(shared)) == shared)
        #expect(try await fixture.store.verify().isClean)
    }

    @Test(arguments: BackendKind.allCases)
    func packsOfAnAbandonedWriterAreCollected(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        // A writer that finished (packs and index written) but whose manifest was never committed.
        try await fixture.store.withSession { (session) async throws(StoreError) in
            let writer = try await session.makeSnapshotWriter(volumeSize: 1 << 20, parent: nil)
            let data = StoreFixture.chunk(7)
            _ = try await onThread { () throws(StoreError) in
                let lease = try writer.lease()
                data.copyBytes(to: lease.bytes)
                try writer.submit(lease, firstChunk: 0, length: data.count)
                return try writer.finish(snapshotId: "snap-never")
            }
        }
        // No manifest was committed: nothing lists the chunk.
        #expect(try await fixture.store.snapshotIds().isEmpty)
        let report = try await fixture.store.collectGarbage()
        #expect(report.packsDeleted == 1)
        #expect(fixture.store.index.count == 0)
    }

    @Test(arguments: BackendKind.allCases)
    func garbageCollectionWaitsForWriters(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        let writerLock = try await fixture.store.backend.lock(exclusive: false, timeout: .seconds(5))
        await #expect { _ = try await fixture.store.collectGarbage(timeout: .milliseconds(500)) } throws: {
            ($0 as? StoreError)?.kind == .busy
        }
        await writerLock.release()
        _ = try await fixture.store.collectGarbage(timeout: .seconds(5))
    }

    @Test(arguments: BackendKind.allCases)
    func unsafeSnapshotIdsAreRefused(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        await #expect { _ = try await fixture.store.manifest("../config") } throws: {
            ($0 as? StoreError)?.kind == .notFound
        }
    }
}
