import Foundation
import Testing

@testable import SnapshotStore

/// The mark compares each table with its volume's previous one and looks up only what differs: it must still
/// find every chunk of every snapshot, in any listing order, and stop at a table that does not check out.
@Suite struct MarkTests {
    static func hash(_ seed: Int) -> ChunkHash { ChunkHash.of(Data("chunk \(seed)".utf8)) }

    @Test func everyChunkOfEverySnapshotIsMarked() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        var expected = Set<ChunkHash>()
        var snapshots: [String] = []
        try await fixture.store.withSession { (session) async throws(StoreError) in
            for number in 0..<60 {
                let volume = number % 3
                var table = ChunkTable()
                // Chunks move in and out, change, and the last one varies in position.
                for chunk in 0..<40 where (chunk + number) % 7 != 0 {
                    let hash = Self.hash(volume * 10_000 + chunk * 100 + (chunk % 5 == 0 ? number : 0))
                    table.append(UInt32(chunk), hash)
                    expected.insert(hash)
                }
                let id = String(format: "snap-%017x", number + 1)
                snapshots.append(id)
                let manifest = Manifest(
                    snapshotId: id, volumeId: "vol-\(volume)", volumeRole: "data", volumeSize: 64 << 20,
                    chunkSize: fixture.store.config.chunkSize, parentId: nil, setId: nil,
                    // Listed out of time order.
                    createdAt: Date(timeIntervalSince1970: Double(1_000_000 + (number * 7919) % 60 * 60)),
                    completedAt: Date(), consistency: "crash", bytesRead: 0, bytesChanged: 0, bytesStored: 0,
                    description: nil, tags: [:], attributes: [:],
                    table: ChunkTableInfo(entries: 0, sha256: "", allocatedBytes: 0))
                try await session.commit(manifest, table: table)
            }
        }
        for order in [snapshots, snapshots.reversed(), snapshots.shuffled()] {
            let marked = try await fixture.store.markLiveChunks(order)
            #expect(marked.count == expected.count)
            for hash in expected { #expect(marked.contains(hash)) }
        }
        #expect(try await fixture.store.countLiveChunks() == expected.count)

        // A table that does not match its checksum stops the mark.
        let key = StoreLayout.table(snapshots[31])
        var damaged = try await fixture.store.backend.get(key)
        damaged[damaged.count - 1] ^= 0xFF
        try await fixture.store.backend.put(key, damaged)
        await #expect {
            _ = try await fixture.store.markLiveChunks(snapshots)
        } throws: { error in
            (error as? StoreError)?.message.contains(snapshots[31]) == true
        }
    }
}
