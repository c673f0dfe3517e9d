import Testing
import Foundation
import SnaplabTestSupport
@testable import SnapshotStore

/// The backends every store test runs against.
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case directory
    case s3

    var testDescription: String { rawValue }
}

/// A store in a temp directory or a fresh bucket of a local S3 server, and helpers that write snapshots made
/// of given chunk contents.
struct StoreFixture {
    let directory: URL
    let store: SnapshotStore

    static func make(_ kind: BackendKind = .directory) async throws -> StoreFixture {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("store-\(UUID().uuidString)")
        let backend: any ObjectBackend
        switch kind {
        case .directory:
            backend = DirectoryBackend(root: directory)
        case .s3:
            let endpoint = try await MotoServer.shared.endpoint()
            let bucket = "store-\(UUID().uuidString.prefix(13).lowercased())"
            backend = S3Backend(location: try S3Location.parse("s3://\(bucket)/lab?endpoint=\(endpoint)",
                                                               environment: MotoServer.environment))
        }
        let store = try await SnapshotStore.open(backend)
        return StoreFixture(directory: directory, store: store)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Flips bits of one byte of a stored object, whatever the backend.
    func tamper(_ key: String, at offset: Int) async throws {
        var data = try await store.backend.get(key)
        data[data.startIndex + offset] ^= 0x40
        try await store.backend.put(key, data)
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
}
