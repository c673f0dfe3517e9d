import Foundation
import NBD
import SnapshotStore

/// What a copy read, changed and stored.
struct CopyStatistics: Sendable {
    var bytesRead: UInt64 = 0
    var bytesChanged: UInt64 = 0
    var bytesStored: UInt64 = 0
    var allocatedBytes: UInt64 = 0
}

/// Copies one volume export into the store: only allocated chunks for a full copy, only dirty chunks (the rest
/// taken from the parent's table) for an incremental one. Reads the next run while the current one is hashed
/// and compressed on every core; never holds more than two runs in memory.
struct SnapshotCopier: Sendable {
    static let chunksPerRun = 64

    let connection: NBDConnection
    let store: SnapshotStore
    let volumeSize: UInt64
    /// Incremental: the parent's chunks and the dirty-bitmap context naming what changed since.
    let parent: ChunkTable?
    let dirtyContext: String?
    let progress: @Sendable (Double) -> Void

    func run() async throws(SnaplabError) -> (ChunkTable, CopyStatistics) {
        let chunkSize = store.config.chunkSize
        let incremental = parent != nil && dirtyContext != nil
        let contexts = [NBDConnection.allocationContext] + (incremental ? [dirtyContext ?? ""] : [])
        let connection = self.connection
        let extents = try await nbd("reading the volume's extents") { try connection.extents(contexts: contexts) }
        let chunks: [UInt32]
        if incremental, let dirtyContext {
            chunks = ChunkPlan.chunks(overlapping: extents[dirtyContext] ?? [], chunkSize: chunkSize,
                                      wanted: ChunkPlan.isDirty)
        } else {
            chunks = ChunkPlan.chunks(overlapping: extents[NBDConnection.allocationContext] ?? [],
                                      chunkSize: chunkSize, wanted: ChunkPlan.holdsData)
        }
        let runs = ChunkPlan.runs(chunks, maximum: Self.chunksPerRun)
        var table = incremental ? (parent?.map ?? [:]) : [:]
        var statistics = CopyStatistics()
        let writer = store.makeWriter()
        let total = max(1, chunks.count)
        var done = 0
        progress(0)
        var pending = runs.first.map { startRead($0, chunkSize: chunkSize) }
        do throws(SnaplabError) {
            for (position, run) in runs.enumerated() {
                guard let reading = pending else { break }
                let buffer = try await value(of: reading)
                pending = position + 1 < runs.count ? startRead(runs[position + 1], chunkSize: chunkSize) : nil
                let index = store.index
                let prepared = try await blocking { ChunkPreparation.prepare(buffer, run: run, chunkSize: chunkSize, known: index) }
                for chunk in prepared {
                    let previous = table[chunk.index]
                    if previous != chunk.hash { statistics.bytesChanged += UInt64(chunk.rawLength) }
                    if let hash = chunk.hash {
                        table[chunk.index] = hash
                        if let payload = chunk.payload {
                            try await withStore { () async throws(StoreError) in
                                try await writer.add(hash: hash, codec: chunk.codec, rawLength: chunk.rawLength,
                                                     payload: payload)
                            }
                        }
                    } else {
                        table.removeValue(forKey: chunk.index)
                    }
                }
                statistics.bytesRead += UInt64(buffer.count)
                done += run.count
                progress(Double(done) / Double(total) * 100)
                try Task.checkCancellation(or: "the snapshot copy was cancelled")
            }
            try await withStore { () async throws(StoreError) in try await writer.finish() }
        } catch {
            // Let the read in flight finish before the caller closes the export (qemu-nbd holds the image).
            pending?.cancel()
            _ = try? await pending?.value
            writer.abandon()
            throw error
        }
        statistics.bytesStored = writer.bytesStored
        let result = ChunkTable(table)
        result.forEach { index, _ in
            statistics.allocatedBytes += UInt64(min(UInt64(chunkSize), volumeSize - UInt64(index) * UInt64(chunkSize)))
        }
        return (result, statistics)
    }

    private func startRead(_ run: Range<UInt32>, chunkSize: Int) -> Task<Data, any Error> {
        let connection = self.connection
        let offset = UInt64(run.lowerBound) * UInt64(chunkSize)
        let length = Int(min(UInt64(run.count * chunkSize), volumeSize - offset))
        return Task {
            try await BlockingPool.run {
                var data = Data(count: length)
                try data.withUnsafeMutableBytes { try connection.read(into: $0, at: offset) }
                return data
            }
        }
    }

    private func value(of task: Task<Data, any Error>) async throws(SnaplabError) -> Data {
        do {
            return try await task.value
        } catch let error as NBDError {
            throw SnaplabError(.io, "reading the volume failed: \(error.message)", cause: error)
        } catch {
            throw SnaplabError(.io, "reading the volume failed", cause: error)
        }
    }

    private func nbd<T: Sendable>(_ what: String, _ body: @escaping @Sendable () throws -> T)
        async throws(SnaplabError) -> T
    {
        do {
            return try await BlockingPool.run(body)
        } catch let error as NBDError {
            throw SnaplabError(.io, "\(what) failed: \(error.message)", cause: error)
        } catch {
            throw SnaplabError(.io, "\(what) failed", cause: error)
        }
    }
}

/// Runs CPU-bound work on the blocking pool.
func blocking<T: Sendable>(_ body: @escaping @Sendable () -> T) async throws(SnaplabError) -> T {
    do {
        return try await BlockingPool.run(body)
    } catch {
        throw SnaplabError(.internal, "the worker pool is shut down", cause: error)
    }
}

extension Task where Success == Never, Failure == Never {
    static func checkCancellation(or message: String) throws(SnaplabError) {
        if Task.isCancelled { throw SnaplabError(.io, message) }
    }
}
