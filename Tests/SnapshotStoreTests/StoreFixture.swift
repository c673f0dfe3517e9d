import Foundation
import SnaplabTestSupport
import Testing

@testable import SnapshotStore

/// The backends every store test runs against.
enum BackendKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case directory
    case s3

    var testDescription: String { rawValue }
}

/// A store in a temp directory or a fresh bucket of a real Ceph object gateway on loopback, and helpers that write snapshots made
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
            let gateway = try await CephGateway.shared.start()
            let bucket = "store-\(UUID().uuidString.prefix(13).lowercased())"
            backend = S3Backend(
                location: try S3Location.parse(
                    "s3://\(bucket)/lab?endpoint=\(gateway.endpoint)", environment: gateway.environment))
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

    /// Writes a snapshot whose chunk `i` holds `chunks[i]` (nil = zeros), one chunk per run (with `parent`: only
    /// the listed chunks are handed over, the rest come from the parent), and commits its manifest.
    @discardableResult
    func writeSnapshot(_ id: String, _ chunks: [UInt32: Data], volumeSize: UInt64 = 64 << 20, parent: Manifest? = nil)
        async throws -> (Manifest, UInt64)
    {
        let runs = chunks.sorted { $0.key < $1.key }.map { (first: $0.key, data: $0.value) }
        return try await commit(id, runs: runs, volumeSize: volumeSize, parent: parent)
    }

    /// Writes a snapshot of a volume whose chunk `i` holds `content(i)` (nil: never handed over), in runs of
    /// consecutive chunks as long as the writer's buffers, as a copy does.
    @discardableResult
    func writeRuns(_ id: String, volumeSize: UInt64, _ content: (UInt32) -> Data?) async throws -> (Manifest, UInt64) {
        let chunkSize = store.config.chunkSize
        let count = UInt32((volumeSize + UInt64(chunkSize) - 1) / UInt64(chunkSize))
        var runs: [(first: UInt32, data: Data)] = []
        for index in 0..<count {
            guard let data = content(index) else { continue }
            if let last = runs.last, last.first + UInt32(last.data.count / chunkSize) == index,
                last.data.count % chunkSize == 0, last.data.count < SnapshotWriter.chunksPerRun * chunkSize
            {
                runs[runs.count - 1].data.append(data)
            } else {
                runs.append((index, data))
            }
        }
        return try await commit(id, runs: runs, volumeSize: volumeSize, parent: nil)
    }

    private func commit(_ id: String, runs: [(first: UInt32, data: Data)], volumeSize: UInt64, parent: Manifest?)
        async throws -> (Manifest, UInt64)
    {
        try await store.withSession { (session) async throws(StoreError) -> (Manifest, UInt64) in
            let writer = try await session.makeSnapshotWriter(volumeSize: volumeSize, parent: parent)
            let written = try await onThread { () throws(StoreError) -> SnapshotWriter.Result in
                for (first, data) in runs {
                    let lease = try writer.lease()
                    data.copyBytes(to: lease.bytes)
                    try writer.submit(lease, firstChunk: first, length: data.count)
                }
                return try writer.finish(snapshotId: id)
            }
            let manifest = Manifest(
                snapshotId: id, volumeId: "vol-test", volumeRole: "data", volumeSize: volumeSize,
                chunkSize: store.config.chunkSize, parentId: parent?.snapshotId, setId: nil, createdAt: Date(),
                completedAt: Date(), consistency: "crash", bytesRead: written.bytesRead,
                bytesChanged: written.bytesChanged, bytesStored: written.bytesStored, description: nil,
                tags: ["k": "v"], attributes: [:], table: written.table)
            try await session.commit(manifest)
            return (manifest, written.bytesStored)
        }
    }

    /// Reads a snapshot back through the snapshot reader: chunk number → bytes (zero chunks are absent).
    func readSnapshot(_ id: String) async throws -> [UInt32: Data] {
        let manifest = try await store.manifest(id)
        return try await store.withSession { (session) async throws(StoreError) -> [UInt32: Data] in
            let reader = try await session.openReader(manifest)
            defer { reader.close() }
            let chunkSize = UInt64(manifest.chunkSize)
            return try await onThread { () throws(StoreError) -> [UInt32: Data] in
                var chunks: [UInt32: Data] = [:]
                while let window = try reader.next() {
                    for run in window.runs {
                        var offset = 0
                        while offset < run.bytes.count {
                            let length = min(Int(chunkSize), run.bytes.count - offset)
                            let index = UInt32((run.offset + UInt64(offset)) / chunkSize)
                            chunks[index] = Data(run.bytes[offset..<(offset + length)])
                            offset += length
                        }
                    }
                    reader.release(window)
                }
                return chunks
            }
        }
    }
}

/// Runs blocking pipeline calls on a thread of their own, off Swift's cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws(StoreError) -> T) async throws(StoreError) -> T {
    let result: Result<T, StoreError> = await withCheckedContinuation { continuation in
        Thread {
            continuation.resume(returning: Result { () throws(StoreError) in try body() })
        }.start()
    }
    return try result.get()
}
