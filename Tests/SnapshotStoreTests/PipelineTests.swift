import Foundation
import Testing

@testable import SnapshotStore

/// The snapshot writer and reader, and what they rely on: the local chunk index, streamed chunk tables,
/// verbatim copies, and stores written by earlier versions.
@Suite struct PipelineTests {
    @Test(arguments: BackendKind.allCases)
    func runsWithZerosRepeatsAndAShortLastChunkComeBackExactly(_ kind: BackendKind) async throws {
        let fixture = try await StoreFixture.make(kind)
        defer { fixture.remove() }
        let chunk = 64 << 10
        let volumeSize = UInt64(40 * chunk + 1000)
        let repeated = StoreFixture.chunk(3)
        var chunks: [UInt32: Data] = [:]
        for index in UInt32(0)..<40 where index % 7 != 3 {
            chunks[index] = index % 5 == 0 ? repeated : StoreFixture.chunk(UInt64(index) + 100, random: index % 2 == 0)
        }
        chunks[40] = StoreFixture.chunk(9, size: 1000)
        // Handed over as the copier does: runs of consecutive chunks, zero chunks included.
        let (manifest, stored) = try await fixture.writeRuns("snap-a", volumeSize: volumeSize) { index in
            index % 7 == 3 ? Data(count: chunk) : chunks[index]
        }
        #expect(manifest.table.entries == chunks.count)
        #expect(manifest.allocatedBytes == UInt64(chunks.values.reduce(0) { $0 + $1.count }))
        #expect(stored < UInt64(chunks.count - 7) * UInt64(chunk), "the repeated chunk is stored once")
        #expect(try await fixture.readSnapshot("snap-a") == chunks)
        #expect(try await fixture.store.verify().isClean)
    }

    @Test func anIncrementalSnapshotTakesWhatWasNotHandedOverFromItsParent() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        let parentChunks: [UInt32: Data] = [
            0: StoreFixture.chunk(1), 1: StoreFixture.chunk(2), 2: StoreFixture.chunk(3),
            5: StoreFixture.chunk(4),
        ]
        let (parent, _) = try await fixture.writeSnapshot("snap-parent", parentChunks)
        let changed: [UInt32: Data] = [1: StoreFixture.chunk(20), 2: Data(count: 64 << 10), 7: StoreFixture.chunk(21)]
        let (child, _) = try await fixture.writeSnapshot("snap-child", changed, parent: parent)
        #expect(
            try await fixture.readSnapshot("snap-child") == [
                0: parentChunks[0], 1: changed[1], 5: parentChunks[5],
                7: changed[7],
            ])
        #expect(child.bytesChanged == 3 * (64 << 10), "chunk 1 changed, 2 became zeros, 7 appeared")
        #expect(child.bytesRead == 3 * (64 << 10))
        let runs = try await fixture.store.changedChunks(parent, child)
        #expect(runs == [1..<3, 7..<8])
    }

    @Test func theLocalIndexMergesKeepsUpWithOtherProcessesAndForgetsWhatGarbageCollectionRemoved() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        let cache = directory.appendingPathComponent("cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let backend = DirectoryBackend(root: directory.appendingPathComponent("store"))
        let store = try await SnapshotStore.open(backend, cacheDirectory: cache, recentIndexLimit: 8)
        let fixture = StoreFixture(directory: directory, store: store)
        var all: [ChunkHash] = []
        for snapshot in 0..<5 {
            var chunks: [UInt32: Data] = [:]
            for index in UInt32(0)..<6 { chunks[index] = StoreFixture.chunk(UInt64(snapshot * 100) + UInt64(index)) }
            all += chunks.values.map(ChunkHash.of)
            try await fixture.writeSnapshot("snap-\(snapshot)", chunks)
        }
        for hash in all { #expect(store.index.location(of: hash) != nil) }
        #expect(store.index.location(of: ChunkHash.of(StoreFixture.chunk(999))) == nil)

        // Another process on the same machine starts from the file this one left, and sees later writes.
        let other = try await SnapshotStore.open(backend, cacheDirectory: cache, recentIndexLimit: 8)
        #expect(other.index.count == all.count)
        let late = StoreFixture.chunk(5000)
        try await fixture.writeSnapshot("snap-late", [0: late])
        try await other.reloadIndex()
        #expect(other.index.location(of: ChunkHash.of(late)) != nil)

        // Garbage collection rewrites the index objects; both indexes forget the removed chunks.
        try await store.deleteSnapshot("snap-0")
        _ = try await store.collectGarbage(options: GarbageOptions(rewriteWhenDeadFraction: 0.01))
        try await other.reloadIndex()
        for (position, hash) in all.enumerated() {
            #expect((store.index.location(of: hash) != nil) == (position >= 6))
            #expect((other.index.location(of: hash) != nil) == (position >= 6))
        }
        #expect(try await fixture.readSnapshot("snap-4").count == 6)
        #expect(try await store.verify().isClean)
    }

    @Test func aLargeLocalIndexFindsEveryEntryAndNothingElse() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("index-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let pack = PackID.random()
        var entries: [IndexEntry] = (0..<50_000).map { number in
            var seed = UInt64(number)
            let hash = withUnsafeBytes(of: &seed) { ChunkHash.of($0) }
            return IndexEntry(
                hash,
                ChunkLocation(
                    pack: pack, offset: UInt32(45 + number * 52), length: 7, rawLength: 65536, codec: .zstd))
        }
        entries.sort { $0.hash < $1.hash }
        var stream = ArrayEntryStream(entries)
        let file = try LocalIndexFile.write(
            &stream, expected: entries.count, sources: ["index/a.idx"],
            to: directory.appendingPathComponent("index.sllx").path)
        #expect(file.count == entries.count)
        #expect(file.sources == ["index/a.idx"])
        for entry in entries.shuffled().prefix(5_000) { #expect(try file.location(of: entry.hash) == entry.location) }
        for number in 50_000..<51_000 {
            var seed = UInt64(number)
            #expect(try file.location(of: withUnsafeBytes(of: &seed) { ChunkHash.of($0) }) == nil)
        }
        var read = file.entries()
        var count = 0
        while let entry = try read.next() {
            #expect(entry == entries[count])
            count += 1
        }
        #expect(count == entries.count)
    }

    @Test(arguments: BackendKind.allCases)
    func storeCopyMovesRecordsVerbatim(_ kind: BackendKind) async throws {
        let source = try await StoreFixture.make(kind)
        let destination = try await StoreFixture.make()
        defer {
            source.remove()
            destination.remove()
        }
        let chunks: [UInt32: Data] = [
            0: StoreFixture.chunk(1), 3: StoreFixture.chunk(2, random: false),
            4: StoreFixture.chunk(2, random: false),
        ]
        try await source.writeSnapshot("snap-a", chunks)
        let report = try await source.store.copy(to: destination.store)
        #expect(report.snapshotsCopied == ["snap-a"])
        #expect(report.chunksCopied == 2)
        #expect(try await destination.readSnapshot("snap-a") == chunks)
        for data in chunks.values {
            let hash = ChunkHash.of(data)
            let from = try #require(source.store.index.location(of: hash))
            let to = try #require(destination.store.index.location(of: hash))
            #expect(from.codec == to.codec && from.length == to.length, "stored as it was, not recompressed")
        }
        #expect(try await source.store.copy(to: destination.store).snapshotsAlreadyThere == ["snap-a"])
    }

    @Test func anAbandonedWriterWritesNothingOnceAbandonReturns() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        let packs = fixture.directory.appendingPathComponent(StoreLayout.packsPrefix)
        try await fixture.store.withSession { (session) async throws(StoreError) in
            let writer = try await session.makeSnapshotWriter(volumeSize: 1 << 30, parent: nil)
            try await onThread { () throws(StoreError) in
                // More than a pack's worth, so uploads are under way when the writer is abandoned.
                for run in 0..<24 {
                    let lease = try writer.lease()
                    for chunk in 0..<SnapshotWriter.chunksPerRun {
                        StoreFixture.chunk(UInt64(run * 1000 + chunk)).copyBytes(
                            to: UnsafeMutableRawBufferPointer(
                                rebasing: lease.bytes[(chunk * 65536)..<((chunk + 1) * 65536)]))
                    }
                    try writer.submit(
                        lease, firstChunk: UInt32(run * SnapshotWriter.chunksPerRun), length: writer.runBytes)
                }
                writer.abandon()
            }
        }
        let files = { () -> [String] in
            (FileManager.default.enumerator(atPath: packs.path)?.allObjects as? [String] ?? []).sorted()
        }
        let after = files()
        try await Task.sleep(for: .milliseconds(300))
        #expect(files() == after)
        #expect(try await fixture.store.snapshotIds().isEmpty)
        let tables = try await fixture.store.backend.list(prefix: StoreLayout.tablesPrefix)
        #expect(tables.isEmpty, "the spooled table is gone: \(tables)")
    }

    @Test func garbageCollectionRemovesWhatKilledWritersLeftHalfWritten() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [0: StoreFixture.chunk(1)])
        let leftovers = [StoreLayout.tablesPrefix + ".tmp-table-killed", StoreLayout.snapshotsPrefix + ".tmp-killed"]
        for key in leftovers {
            #expect(
                FileManager.default.createFile(
                    atPath: fixture.directory.appendingPathComponent(key).path,
                    contents: Data(count: 4096)))
        }
        let report = try await fixture.store.collectGarbage()
        #expect(report.bytesReclaimed >= 8192)
        for key in leftovers {
            #expect(!FileManager.default.fileExists(atPath: fixture.directory.appendingPathComponent(key).path))
        }
        #expect(try await fixture.readSnapshot("snap-a").count == 1)
    }

    @Test func storesWrittenInTheFirstFormatStillRestoreVerifyAndCollect() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        // Format 1: one index object per pack, named after it, and the chunk table inside the manifest.
        let chunks: [UInt32: Data] = [0: StoreFixture.chunk(1), 2: StoreFixture.chunk(2, random: false)]
        let pack = PackID.random()
        var packBytes = Data()
        var index = Data(Array("SLIX".utf8) + [1])
        index.append(contentsOf: withUnsafeBytes(of: UInt32(chunks.count).littleEndian) { Array($0) })
        var table = ChunkTable()
        for (number, data) in chunks.sorted(by: { $0.key < $1.key }) {
            let hash = ChunkHash.of(data)
            let (codec, payload) = data.withUnsafeBytes { ChunkCompression.encode($0) }
            var header = [UInt8](repeating: 0, count: PackFormat.recordHeaderSize)
            header.withUnsafeMutableBytes {
                PackFormat.writeRecordHeader(
                    $0, at: 0, hash: hash, codec: codec, rawLength: data.count, length: payload.count)
            }
            packBytes.append(contentsOf: header)
            let offset = UInt32(packBytes.count)
            packBytes.append(payload)
            index.append(contentsOf: hash.bytes)
            for value in [offset, UInt32(payload.count), UInt32(data.count)] {
                index.append(contentsOf: withUnsafeBytes(of: value.littleEndian) { Array($0) })
            }
            index.append(codec.rawValue)
            table.append(number, hash)
        }
        try await fixture.store.backend.put(StoreLayout.pack(pack), packBytes)
        try await fixture.store.backend.put(StoreLayout.index(pack.hex), index)
        var manifest = Manifest(
            snapshotId: "snap-old", volumeId: "vol-old", volumeRole: "data", volumeSize: 1 << 20, chunkSize: 64 << 10,
            parentId: nil, setId: nil, createdAt: Date(), completedAt: Date(), consistency: "crash", bytesRead: 0,
            bytesChanged: 0, bytesStored: 0, description: nil, tags: [:], attributes: [:],
            table: ChunkTableInfo(entries: 0, sha256: "", allocatedBytes: 0))
        manifest.format = 1
        manifest.embeddedChunks = table
        try await fixture.store.backend.put(StoreLayout.manifest("snap-old"), try manifest.encoded())

        try await fixture.store.reloadIndex()
        let read = try await fixture.store.manifest("snap-old")
        #expect(read.table.entries == 2 && read.allocatedBytes == 2 * (64 << 10))
        #expect(try await fixture.readSnapshot("snap-old") == chunks)
        #expect(try await fixture.store.verify().isClean)
        let report = try await fixture.store.collectGarbage()
        #expect(report.packsDeleted == 0)
        #expect(try await fixture.readSnapshot("snap-old") == chunks)
    }
}
