import Foundation
import SnapshotStore

/// Puts snapshots of other (made-up) volumes straight into the store, so the benchmark can show that memory does
/// not grow with what the store holds. They are not in the catalog; the benchmark deletes them afterwards.
struct BenchStoreFiller {
    let lab: Lab

    /// Returns the ids of the snapshots it stored.
    func fill(count: Int, size: UInt64, seed: UInt64) async throws(SnaplabError) -> [String] {
        let store = try await lab.store.open()
        var ids: [String] = []
        for number in 0..<count {
            let content = MixedVolumeContent(size: size, seed: seed &+ 1000 &+ UInt64(number))
            let id = ResourceID.generate(.snapshot)
            try await withStore { () async throws(StoreError) in
                try await store.withSession { (session) async throws(StoreError) in
                    let writer = try await session.makeSnapshotWriter(volumeSize: size, parent: nil)
                    let written = try await Self.feed(writer, content, snapshotId: id)
                    try await session.commit(
                        Manifest(
                            snapshotId: id, volumeId: "vol-bench-other", volumeRole: "data", volumeSize: size,
                            chunkSize: store.config.chunkSize, parentId: nil, setId: nil, createdAt: Date(),
                            completedAt: Date(), consistency: "crash", bytesRead: written.bytesRead,
                            bytesChanged: written.bytesChanged, bytesStored: written.bytesStored, description: nil,
                            tags: ["bench": "other"], attributes: [:], table: written.table))
                }
            }
            ids.append(id)
        }
        return ids
    }

    /// Hands the content to the writer run by run, as a copy from a volume would.
    private static func feed(_ writer: SnapshotWriter, _ content: MixedVolumeContent, snapshotId: String)
        async throws(StoreError) -> SnapshotWriter.Result
    {
        let result: Result<SnapshotWriter.Result, StoreError> = await withCheckedContinuation { continuation in
            Thread {
                continuation.resume(
                    returning: Result { () throws(StoreError) in
                        do throws(StoreError) {
                            return try feedBlocking(writer, content, snapshotId: snapshotId)
                        } catch {
                            writer.abandon()
                            throw error
                        }
                    })
            }.start()
        }
        return try result.get()
    }

    private static func feedBlocking(_ writer: SnapshotWriter, _ content: MixedVolumeContent, snapshotId: String)
        throws(StoreError) -> SnapshotWriter.Result
    {
        let extent = UnsafeMutableRawBufferPointer.allocate(byteCount: MixedVolumeContent.extentSize, alignment: 4096)
        defer { extent.deallocate() }
        let chunkSize = UInt64(writer.runBytes / SnapshotWriter.chunksPerRun)
        for (number, placed) in content.extents.enumerated() {
            content.fill(number, into: extent)
            var start = 0
            while start < extent.count {
                let lease = try writer.lease()
                let length = min(writer.runBytes, extent.count - start)
                lease.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: extent[start..<(start + length)]))
                let first = UInt32((content.offset(of: placed) + UInt64(start)) / chunkSize)
                try writer.submit(lease, firstChunk: first, length: length)
                start += length
            }
        }
        return try writer.finish(snapshotId: snapshotId)
    }
}
