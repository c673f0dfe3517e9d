import Foundation

/// What `store copy` did.
public struct CopyReport: Sendable, Codable, Equatable {
    public var snapshotsCopied: [String] = []
    public var snapshotsAlreadyThere: [String] = []
    public var chunksCopied = 0
    public var bytesStored: UInt64 = 0
    public var artifactsCopied = 0
    public var documentsCopied = 0
}

extension SnapshotStore {
    /// Copies snapshots (all, or the listed ones) into another store, as cross-region copy does: the chunks the
    /// destination lacks (each checked against its hash on the way), then the manifest, last. Artifacts and
    /// documents (image definitions) go along. Holds the destination's writer lock.
    public func copy(_ snapshotIds: [String]? = nil, to destination: SnapshotStore,
                     progress: (@Sendable (String) -> Void)? = nil) async throws(StoreError) -> CopyReport {
        // The source's shared lock too: its garbage collection must not move packs while they are read.
        try await withStoreLock(exclusive: false, timeout: .seconds(600)) { () async throws(StoreError) in
            try await reloadIndex()
            return try await copyLocked(snapshotIds, to: destination, progress: progress)
        }
    }

    private func copyLocked(_ snapshotIds: [String]?, to destination: SnapshotStore,
                            progress: (@Sendable (String) -> Void)?) async throws(StoreError) -> CopyReport {
        var report = CopyReport()
        let ids: [String]
        if let snapshotIds { ids = snapshotIds } else { ids = try await self.snapshotIds() }
        try await destination.withStoreLock(exclusive: false, timeout: .seconds(600)) { () async throws(StoreError) in
            try await destination.reloadIndex()
            for id in ids {
                if try await destination.hasManifest(id) {
                    report.snapshotsAlreadyThere.append(id)
                    continue
                }
                let manifest = try await self.manifest(id)
                let writer = destination.makeWriter()
                do throws(StoreError) {
                    // `has` also knows what this writer added: a chunk repeated in the volume is copied once.
                    for hash in manifest.chunks.hashes where !writer.has(hash) {
                        let raw = try await readChunk(hash)
                        let (codec, payload) = raw.withUnsafeBytes { ChunkCompression.encode($0) }
                        try await writer.add(hash: hash, codec: codec, rawLength: raw.count, payload: payload)
                        report.chunksCopied += 1
                    }
                    try await writer.finish()
                } catch {
                    writer.abandon()
                    throw error
                }
                report.bytesStored += writer.bytesStored
                try await destination.commit(manifest)
                report.snapshotsCopied.append(id)
                progress?(id)
            }
        }
        for key in try await backend.list(prefix: StoreLayout.artifactsPrefix) + backend.list(prefix: StoreLayout.documentsPrefix) {
            if try await destination.backend.exists(key) { continue }
            try await destination.backend.put(key, try await backend.get(key))
            if key.hasPrefix(StoreLayout.artifactsPrefix) { report.artifactsCopied += 1 } else { report.documentsCopied += 1 }
        }
        return report
    }
}
