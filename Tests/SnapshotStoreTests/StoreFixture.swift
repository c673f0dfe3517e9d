import Foundation
@testable import SnapshotStore

/// A store in a temp directory, and helpers that write snapshots made of given chunk contents.
struct StoreFixture {
    let directory: URL
    let store: SnapshotStore

    static func make() async throws -> StoreFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        let store = try await SnapshotStore.open(DirectoryBackend(root: directory))
        return StoreFixture(directory: directory, store: store)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Deterministic chunk contents: `random` ones do not compress, the others do.
    static func chunk(_ seed: UInt64, random: Bool = true, size: Int = 64 << 10) -> Data {
        var state = seed &* 0x9E37_79B9_7F4A_7C15 | 1
        var data = Data(count: size)
        data.withUnsafeMutableBytes { buffer in
            let words = buffer.bindMemory(to: UInt64.self)
            for position in words.indices {
                if random {
                    state ^= state << 13
                    state ^= state >> 7
                    state ^= state << 17
                    words[position] = state
                } else {
                    words[position] = seed &+ UInt64(position % 16)
                }
            }
        }
        return data
    }

    /// Writes a snapshot whose chunk `i` holds `chunks[i]` (nil = zeros) and commits its manifest.
    @discardableResult
    func writeSnapshot(_ id: String, _ chunks: [UInt32: Data], volumeSize: UInt64 = 64 << 20) async throws
        -> (Manifest, UInt64)
    {
        let writer = store.makeWriter()
        var table: [UInt32: ChunkHash] = [:]
        for (index, data) in chunks.sorted(by: { $0.key < $1.key }) {
            let hash = ChunkHash.of(data)
            let (codec, payload) = data.withUnsafeBytes { ChunkCompression.encode($0) }
            try await writer.add(hash: hash, codec: codec, rawLength: data.count, payload: payload)
            table[index] = hash
        }
        try await writer.finish()
        let manifest = Manifest(
            snapshotId: id, volumeId: "vol-test", volumeRole: "data", volumeSize: volumeSize,
            chunkSize: store.config.chunkSize, parentId: nil, setId: nil, createdAt: Date(), completedAt: Date(),
            consistency: "crash", bytesRead: 0, bytesChanged: 0, bytesStored: writer.bytesStored, description: nil,
            tags: ["k": "v"], attributes: [:], chunks: ChunkTable(table))
        try await store.commit(manifest)
        return (manifest, writer.bytesStored)
    }

    /// The first pack file on disk.
    func anyPackFile() throws -> URL {
        let packs = directory.appendingPathComponent("packs")
        let enumerator = FileManager.default.enumerator(at: packs, includingPropertiesForKeys: nil)
        while let url = enumerator?.nextObject() as? URL {
            if url.pathExtension == "pack" { return url }
        }
        throw StoreError(.notFound, "no pack in \(packs.path)")
    }
}
