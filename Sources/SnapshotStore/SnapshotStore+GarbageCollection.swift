import Foundation

/// What `collectGarbage` did.
public struct GarbageReport: Sendable, Codable, Equatable {
    public var referencedChunks = 0
    public var packsDeleted = 0
    public var packsRewritten = 0
    public var chunksRemoved = 0
    public var bytesReclaimed: UInt64 = 0
    /// Unused bytes left in packs that are still mostly live (rewriting them would cost more than it frees).
    public var deadBytesKept: UInt64 = 0
}

extension SnapshotStore {
    /// Mark and sweep: chunks no manifest lists are removed. A pack with nothing live goes; a pack that is
    /// mostly dead is rewritten with its live chunks. Takes the store's exclusive lock, so it waits for (or,
    /// after `timeout`, gives up on) snapshots being written: their chunks are never swept from under them.
    public func collectGarbage(rewriteWhenDeadFraction: Double = 0.5, timeout: Duration = .seconds(600))
        async throws(StoreError) -> GarbageReport
    {
        try await withStoreLock(exclusive: true, timeout: timeout) { () async throws(StoreError) in
            try await collectLocked(rewriteWhenDeadFraction: rewriteWhenDeadFraction)
        }
    }

    private func collectLocked(rewriteWhenDeadFraction: Double) async throws(StoreError) -> GarbageReport {
        var report = GarbageReport()

        // Mark. Any unreadable manifest stops the sweep: its chunks would look unused.
        var referenced = Set<ChunkHash>()
        for snapshotId in try await snapshotIds() {
            let manifest: Manifest
            do {
                manifest = try await self.manifest(snapshotId)
            } catch {
                throw StoreError(.corrupt, "garbage collection stopped: manifest of \(snapshotId) cannot be read (\(error.message)); repair or delete that snapshot first")
            }
            manifest.chunks.forEach { _, hash in referenced.insert(hash) }
        }
        report.referencedChunks = referenced.count

        // Packs no index describes were left by writers that died before indexing them.
        var indexed = Set<String>()
        for key in try await backend.list(prefix: StoreLayout.indexPrefix) {
            if let packId = StoreLayout.packId(ofIndex: key) { indexed.insert(packId) }
        }
        for key in try await backend.list(prefix: StoreLayout.packsPrefix) {
            guard let packId = StoreLayout.packId(ofPack: key), !indexed.contains(packId) else { continue }
            report.bytesReclaimed += (try? await backend.size(key)) ?? 0
            try await backend.delete(key)
            report.packsDeleted += 1
        }

        // Sweep indexed packs.
        var kept = Set<ChunkHash>()
        for packId in indexed.sorted() {
            let entries = try PackFormat.decodeIndex(try await backend.get(StoreLayout.index(packId)), packId: packId)
            var live: [(ChunkHash, ChunkLocation)] = []
            var deadBytes: UInt64 = 0
            var totalBytes: UInt64 = 0
            for (hash, location) in entries {
                let size = UInt64(location.length) + UInt64(PackFormat.recordHeaderSize)
                totalBytes += size
                // A chunk stored twice (two writers at once) is kept once.
                if referenced.contains(hash), kept.insert(hash).inserted {
                    live.append((hash, location))
                } else {
                    deadBytes += size
                }
            }
            if live.isEmpty {
                try await backend.delete(StoreLayout.index(packId))
                try await backend.delete(StoreLayout.pack(packId))
                report.packsDeleted += 1
                report.chunksRemoved += entries.count
                report.bytesReclaimed += totalBytes
            } else if Double(deadBytes) >= Double(totalBytes) * rewriteWhenDeadFraction {
                try await rewrite(packId, keeping: live)
                report.packsRewritten += 1
                report.chunksRemoved += entries.count - live.count
                report.bytesReclaimed += deadBytes
            } else {
                report.deadBytesKept += deadBytes
            }
        }
        try await reloadIndex()
        return report
    }

    /// Copies the live records of a pack into a new pack (durable, indexed) before removing the old one.
    private func rewrite(_ packId: String, keeping live: [(ChunkHash, ChunkLocation)]) async throws(StoreError) {
        let old = try await readPack(packId)
        let newId = Self.newPackId()
        var pack = Data()
        var entries: [(ChunkHash, ChunkLocation)] = []
        for (hash, location) in live {
            let payload = try PackFormat.payload(in: old, at: location, hash: hash)
            let offset = PackFormat.appendRecord(to: &pack, hash: hash, codec: location.codec,
                                                 rawLength: Int(location.rawLength), payload: payload)
            entries.append((hash, ChunkLocation(packId: newId, offset: offset, length: location.length,
                                                rawLength: location.rawLength, codec: location.codec)))
        }
        try await backend.put(StoreLayout.pack(newId), pack)
        try await backend.put(StoreLayout.index(newId), PackFormat.encodeIndex(entries))
        try await backend.delete(StoreLayout.index(packId))
        try await backend.delete(StoreLayout.pack(packId))
    }
}
