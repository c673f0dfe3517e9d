import Blocking
import Foundation

extension SnapshotStore {
    /// Copies snapshots into a store whose records cannot be moved as they are (one of the two is encrypted, so
    /// chunk names and seals differ): each snapshot is read back, checked, and written anew into the destination
    /// (named, compressed and sealed as it names, compresses and seals); documents and artifacts are opened here
    /// and sealed there. The destination deduplicates as it would a snapshot of the same volume.
    func transcode(
        _ ids: [String], from own: StoreSession, into target: StoreSession, progress: (@Sendable (String) -> Void)?
    ) async throws(StoreError) -> CopyReport {
        var report = CopyReport()
        for id in ids {
            guard let manifest = try await manifestToCopy(id, into: target, report: &report) else { continue }
            let source = try await own.openReader(manifest)
            let writer = try await target.makeSnapshotWriter(volumeSize: manifest.volumeSize, parent: nil)
            let written = try await BlockingPool.run { () throws(StoreError) -> SnapshotWriter.Result in
                defer { source.close() }
                do throws(StoreError) {
                    try Self.pour(source, into: writer, chunkSize: manifest.chunkSize)
                    return try writer.finish(snapshotId: id)
                } catch {
                    writer.abandon()
                    throw error
                }
            }
            var copied = manifest
            copied.table = written.table
            copied.bytesStored = written.bytesStored
            try await target.commit(copied)
            report.chunksCopied += written.table.entries
            report.bytesStored += written.bytesStored
            report.snapshotsCopied.append(id)
            progress?(id)
        }
        return report
    }

    /// Hands every decoded run of `reader` to `writer`, a writer's buffer at a time. Blocking.
    private static func pour(_ reader: SnapshotReader, into writer: SnapshotWriter, chunkSize: Int) throws(StoreError) {
        while let window = try reader.next() {
            defer { reader.release(window) }
            for run in window.runs {
                var done = 0
                while done < run.bytes.count {
                    let lease = try writer.lease()
                    let length = min(writer.runBytes, run.bytes.count - done)
                    lease.bytes.copyMemory(
                        from: UnsafeRawBufferPointer(rebasing: run.bytes[done..<(done + length)]))
                    let offset = run.offset + UInt64(done)
                    try writer.submit(lease, firstChunk: UInt32(offset / UInt64(chunkSize)), length: length)
                    done += length
                }
            }
        }
    }

    /// Documents and artifacts, opened here and written (sealed or not) there.
    func transcodeDocuments(to destination: SnapshotStore, report: inout CopyReport) async throws(StoreError) {
        for key in try await backend.list(prefix: StoreLayout.artifactsPrefix) {
            let digest = String(key.dropFirst(StoreLayout.artifactsPrefix.count))
            guard try await !destination.backend.exists(key) else { continue }
            _ = try await destination.putArtifact(try await artifact(digest))
            report.artifactsCopied += 1
        }
        for key in try await backend.list(prefix: StoreLayout.documentsPrefix) {
            let parts = key.dropFirst(StoreLayout.documentsPrefix.count).split(separator: "/").map(String.init)
            guard parts.count == 2, parts[1].hasSuffix(".json"), try await !destination.backend.exists(key) else {
                continue
            }
            let kind = parts[0]
            let id = String(parts[1].dropLast(5))
            try await destination.putDocument(kind: kind, id: id, try await document(kind: kind, id: id))
            report.documentsCopied += 1
        }
    }
}
