import Foundation
import NBD
import SnapshotStore

/// Copies one volume export into the store: only allocated chunks for a full copy, only dirty chunks (the rest
/// taken from the parent's table) for an incremental one. Several reads stay in flight on the NBD connection,
/// each into a buffer the store's writer lends, which hashes and packs them on its own threads meanwhile.
struct SnapshotCopier: Sendable {
    /// Below the writer's buffer count, so that buffers stay free for the hashing threads.
    static let readsInFlight = 8

    let connection: NBDConnection
    let session: StoreSession
    let volumeSize: UInt64
    /// Incremental: the parent snapshot and the dirty-bitmap context naming what changed since.
    let parent: Manifest?
    let dirtyContext: String?

    /// Copies the volume into a snapshot's chunks and table; `progress` hears the percentage done.
    func run(snapshotId: String, progress: @escaping @Sendable (Double) -> Void) async throws(SnaplabError)
        -> SnapshotWriter.Result
    {
        let chunkSize = session.store.config.chunkSize
        let incremental = parent != nil && dirtyContext != nil
        let contexts = [NBDConnection.allocationContext] + (incremental ? [dirtyContext ?? ""] : [])
        let connection = self.connection
        let volumeSize = self.volumeSize
        let extents = try await blockingCopy("reading the volume's extents") { _ in
            let exported = try connection.size()
            guard exported == volumeSize else {
                throw SnaplabError(
                    .invalidState,
                    "the volume exports \(exported) bytes but the catalog says \(volumeSize); the volume was resized outside snaplab. Restore its size (`qemu-img resize`) or create a new volume"
                )
            }
            return try connection.extents(contexts: contexts)
        }
        let runs: [Range<UInt32>]
        if incremental, let dirtyContext {
            runs = ChunkPlan.runs(
                overlapping: extents[dirtyContext] ?? [], chunkSize: chunkSize,
                maximum: SnapshotWriter.chunksPerRun, wanted: ChunkPlan.isDirty)
        } else {
            runs = ChunkPlan.runs(
                overlapping: extents[NBDConnection.allocationContext] ?? [], chunkSize: chunkSize,
                maximum: SnapshotWriter.chunksPerRun, wanted: ChunkPlan.holdsData)
        }
        let session = self.session
        let parent = incremental ? self.parent : nil
        let writer = try await withStore { () async throws(StoreError) in
            try await session.makeSnapshotWriter(volumeSize: volumeSize, parent: parent)
        }
        progress(0)
        return try await blockingCopy("reading the volume") { cancellation in
            let queue = NBDRequestQueue(connection, depth: Self.readsInFlight)
            let total = Double(max(1, runs.reduce(0) { $0 + $1.count }))
            var done = 0
            var handOver: (any Error)?
            do {
                for run in runs {
                    try cancellation.check("the snapshot copy was cancelled")
                    // Hand finished reads over before borrowing another buffer: the writer may have none free
                    // until it gets them.
                    while queue.inFlight >= Self.readsInFlight { try queue.waitForOldest() }
                    let lease = try writer.lease()
                    let offset = UInt64(run.lowerBound) * UInt64(chunkSize)
                    let length = Int(min(UInt64(run.count * chunkSize), volumeSize - offset))
                    try queue.read(into: UnsafeMutableRawBufferPointer(rebasing: lease.bytes[0..<length]), at: offset) {
                        do {
                            try writer.submit(lease, firstChunk: run.lowerBound, length: length)
                        } catch {
                            handOver = handOver ?? error
                        }
                        done += run.count
                        progress(Double(done) / total * 100)
                    }
                    if let handOver { throw handOver }
                }
                try queue.drain()
                if let handOver { throw handOver }
                return try writer.finish(snapshotId: snapshotId)
            } catch {
                // No buffer may be reused while qemu still answers into it.
                queue.abandon()
                writer.abandon()
                throw error
            }
        }
    }
}
