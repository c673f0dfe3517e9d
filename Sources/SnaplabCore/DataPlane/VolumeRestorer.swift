import Foundation
import NBD
import SnapshotStore

/// Writes a snapshot's chunks into a writable export (a new, empty qcow2): zero chunks are skipped, so the
/// result stays sparse. Every chunk is checked against its hash before it is written; a damaged one stops the
/// restore with an error rather than writing wrong data.
struct VolumeRestorer: Sendable {
    /// Chunks decoded at once; bounds memory whatever the volume size.
    static let batchChunks = 128

    let connection: NBDConnection
    let store: SnapshotStore
    let manifest: Manifest
    let progress: @Sendable (Double) -> Void

    /// One batch of chunks from one pack, in pack order.
    private struct Batch: Sendable {
        var entries: [(UInt32, ChunkHash, ChunkLocation)]
        /// The records lie close together: one read of their span beats a read per chunk.
        var span: Bool
    }

    func run() async throws(SnaplabError) {
        var byPack: [String: [(UInt32, ChunkHash, ChunkLocation)]] = [:]
        var failure: SnaplabError?
        manifest.chunks.forEach { index, hash in
            guard failure == nil else { return }
            guard let location = store.index.location(of: hash) else {
                failure = SnaplabError(.store, "snapshot \(manifest.snapshotId) needs chunk \(hash), which the store does not have; run `snaplab store verify`")
                return
            }
            byPack[location.packId, default: []].append((index, hash, location))
        }
        if let failure { throw failure }
        var batches: [Batch] = []
        for packId in byPack.keys.sorted() {
            let entries = (byPack[packId] ?? []).sorted { $0.2.offset < $1.2.offset }
            for start in stride(from: 0, to: entries.count, by: Self.batchChunks) {
                let slice = Array(entries[start..<min(start + Self.batchChunks, entries.count)])
                let needed = slice.reduce(0) { $0 + UInt64($1.2.length) }
                let spanned = UInt64(slice.last?.2.offset ?? 0) + UInt64(slice.last?.2.length ?? 0)
                    - UInt64(slice.first?.2.offset ?? 0)
                batches.append(Batch(entries: slice, span: spanned <= needed * 2))
            }
        }
        let total = max(1, manifest.chunks.count)
        var written = 0
        progress(0)
        // Decode the next batch while this one is written.
        var pending = batches.first.map { batch in Task { () throws(SnaplabError) -> [Data] in try await decode(batch) } }
        for (position, batch) in batches.enumerated() {
            guard let decoding = pending else { break }
            let chunks: [Data]
            do {
                chunks = try await decoding.value
            } catch {
                pending?.cancel()
                throw error as? SnaplabError ?? SnaplabError(.internal, "restore failed", cause: error)
            }
            pending = position + 1 < batches.count
                ? Task { [next = batches[position + 1]] () throws(SnaplabError) -> [Data] in try await decode(next) }
                : nil
            do throws(SnaplabError) {
                try await write(batch.entries.map(\.0), chunks)
            } catch {
                pending?.cancel()
                _ = try? await pending?.value
                throw error
            }
            written += batch.entries.count
            progress(Double(written) / Double(total) * 100)
        }
        let connection = self.connection
        try await nbd("flushing the restored volume") { try connection.flush() }
    }

    private func decode(_ batch: Batch) async throws(SnaplabError) -> [Data] {
        let entries = batch.entries
        var records: [Data] = []
        var span: PackSpan?
        if batch.span {
            span = try await withStore { () async throws(StoreError) in try await store.fetchSpan(entries.map(\.2)) }
        } else {
            for (_, _, location) in entries {
                records.append(try await withStore { () async throws(StoreError) in try await store.fetchRecord(location) })
            }
        }
        let fetched = records
        let fetchedSpan = span
        let results = try await blocking { () -> [Result<Data, StoreError>] in
            let slots = Slots<Result<Data, StoreError>>(count: entries.count)
            DispatchQueue.concurrentPerform(iterations: entries.count) { position in
                let (_, hash, location) = entries[position]
                do throws(StoreError) {
                    let raw = if let fetchedSpan {
                        try fetchedSpan.decode(location, hash: hash)
                    } else {
                        try SnapshotStore.decodeRecord(fetched[position], location: location, hash: hash)
                    }
                    slots.set(position, .success(raw))
                } catch {
                    slots.set(position, .failure(error))
                }
            }
            return slots.values.map { $0 ?? .failure(StoreError(.corrupt, "chunk was not decoded")) }
        }
        var chunks: [Data] = []
        for (position, result) in results.enumerated() {
            switch result {
            case .success(let data): chunks.append(data)
            case .failure(let error):
                throw SnaplabError(.store, "restoring \(manifest.snapshotId) stopped at chunk \(entries[position].0): \(error.message)",
                                   cause: error)
            }
        }
        return chunks
    }

    /// Writes chunks, joining neighbours into larger writes.
    private func write(_ indices: [UInt32], _ chunks: [Data]) async throws(SnaplabError) {
        let chunkSize = UInt64(manifest.chunkSize)
        var runs: [(UInt64, Data)] = []
        for (index, data) in zip(indices, chunks) {
            let offset = UInt64(index) * chunkSize
            if let last = runs.last, last.0 + UInt64(last.1.count) == offset, last.1.count < 8 << 20 {
                runs[runs.count - 1].1.append(data)
            } else {
                runs.append((offset, data))
            }
        }
        let connection = self.connection
        let ready = runs
        try await nbd("writing the restored volume") {
            for (offset, data) in ready {
                try data.withUnsafeBytes { try connection.write($0, at: offset) }
            }
        }
    }

    private func nbd(_ what: String, _ body: @escaping @Sendable () throws -> Void) async throws(SnaplabError) {
        do {
            try await BlockingPool.run(body)
        } catch let error as NBDError {
            throw SnaplabError(.io, "\(what) failed: \(error.message)", cause: error)
        } catch {
            throw SnaplabError(.io, "\(what) failed", cause: error)
        }
    }
}
