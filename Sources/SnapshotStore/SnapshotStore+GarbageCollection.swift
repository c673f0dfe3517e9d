import Blocking
import Faults
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
    /// Packs no index describes, kept because they are younger than the grace period.
    public var unindexedPacksKept = 0
    /// Mostly-dead packs left as they are because object lock holds them (rewriting would unprotect their chunks).
    public var retainedPacksKept = 0
    /// Old versions and delete markers a versioned bucket kept, removed now; and those still held by retention.
    public var oldVersionsRemoved = 0
    public var retainedVersionsKept = 0
    /// Why old versions could not be removed this time (the sweep itself is done).
    public var oldVersionsProblem: String?
}

extension SnapshotStore {
    /// Mark and sweep: chunks no manifest lists are removed. A pack with nothing live goes; a pack that is
    /// mostly dead is rewritten with its live chunks; the index is rewritten to name only live chunks. Takes the
    /// store's exclusive lock, so it waits for (or, after `timeout`, gives up on) snapshots being written or
    /// read: their chunks are never swept from under them. Any listing error, unreadable manifest or snapshot
    /// that vanished without being deleted stops it before it deletes anything.
    public func collectGarbage(options: GarbageOptions = GarbageOptions(), timeout: Duration = .seconds(600))
        async throws(StoreError) -> GarbageReport
    {
        try await withStoreLock(exclusive: true, timeout: timeout) { () async throws(StoreError) in
            try await collectLocked(options)
        }
    }

    private func collectLocked(_ options: GarbageOptions) async throws(StoreError) -> GarbageReport {
        var report = GarbageReport()
        let io = ThreadIO(backend: backend)

        // Mark. Any unreadable manifest or table stops the sweep: its chunks would look unused.
        let snapshots = try await snapshotIds()
        let tombstones = try await checkListingIsComplete(snapshots, acceptMissing: options.acceptMissing)
        let referenced = try await markLiveChunks(snapshots)
        report.referencedChunks = referenced.count

        // Files a killed writer left half-written, and tables whose manifest is gone (deleted or never-completed
        // snapshots).
        if let directory = backend as? DirectoryBackend {
            report.bytesReclaimed += try await directory.removeTemporaryFiles()
        }
        let listed = Set(snapshots)
        for key in try await backend.list(prefix: StoreLayout.tablesPrefix) {
            guard let id = StoreLayout.snapshotId(ofTable: key), !listed.contains(id) else { continue }
            report.bytesReclaimed += (try? await backend.size(key)) ?? 0
            try await backend.delete(key)
        }

        // What every pack holds, live or dead, by the index objects.
        let indexKeys = try await backend.list(prefix: StoreLayout.indexPrefix).filter {
            StoreLayout.packId(ofIndex: $0) != nil
        }
        var packs: [PackID: PackUse] = [:]
        var seen = Set<ChunkHash>()
        for key in indexKeys.sorted() {
            for entry in try PackFormat.decodeIndex(try await backend.get(key), key: key) {
                let size = UInt64(entry.location.length) + UInt64(PackFormat.recordHeaderSize)
                var use = packs[entry.location.pack] ?? PackUse()
                use.totalBytes += size
                use.entries += 1
                // A chunk stored twice (two writers at once) is kept once.
                if referenced.contains(entry.hash), seen.insert(entry.hash).inserted {
                    use.live.append(entry)
                } else {
                    use.deadBytes += size
                }
                packs[entry.location.pack] = use
            }
        }

        // Packs no index describes were left by writers that died before indexing them.
        var doomed: [PackID] = []
        for key in try await backend.list(prefix: StoreLayout.packsPrefix) {
            guard let name = StoreLayout.packId(ofPack: key) else { continue }
            if let pack = PackID(hex: name), packs[pack] != nil { continue }
            if try await isWithinGrace(key, grace: options.unindexedGrace) {
                report.unindexedPacksKept += 1
                continue
            }
            report.bytesReclaimed += (try? await backend.size(key)) ?? 0
            try await backend.delete(key)
            report.packsDeleted += 1
        }

        var liveEntries: [IndexEntry] = []
        var rewriting: [PackID: PackUse] = [:]
        let retention = try await backend.retentionSupported()
        let now = Date()
        for (pack, use) in packs {
            if use.live.isEmpty {
                doomed.append(pack)
                report.packsDeleted += 1
                report.chunksRemoved += use.entries
                report.bytesReclaimed += use.totalBytes
            } else if use.deadBytes > 0,
                Double(use.deadBytes) >= Double(use.totalBytes) * options.rewriteWhenDeadFraction,
                !(try await isRetained(pack, supported: retention, now: now, report: &report))
            {
                rewriting[pack] = use
                doomed.append(pack)
                report.packsRewritten += 1
                report.chunksRemoved += use.entries - use.live.count
                report.bytesReclaimed += use.deadBytes
            } else {
                liveEntries += use.live
                report.deadBytesKept += use.deadBytes
            }
        }
        guard !doomed.isEmpty || packs.values.contains(where: { $0.live.count < $0.entries }) else {
            try await reloadIndex()
            try await recordMark(snapshots, tombstones: tombstones)
            try await removeOldVersions(into: &report)
            return report
        }
        let config = self.config
        liveEntries += try await BlockingPool.run { [rewriting] () throws(StoreError) -> [IndexEntry] in
            try Self.rewrite(rewriting, io: io, config: config)
        }

        // New index objects first, old ones next, dead packs last: at every step each index names packs that exist.
        liveEntries.sort { $0.hash < $1.hash }
        var start = 0
        while start < liveEntries.count {
            let piece = Array(liveEntries[start..<min(start + SnapshotWriter.publishEvery, liveEntries.count)])
            try await backend.put(StoreLayout.index(PackID.random().hex), PackFormat.encodeIndex(piece))
            start += piece.count
        }
        FaultPoint.reach(.gcAfterNewIndexes)
        for key in indexKeys { try await backend.delete(key) }
        FaultPoint.reach(.gcBeforePackDeletion)
        for pack in doomed { try await backend.delete(StoreLayout.pack(pack)) }
        try await reloadIndex()
        try await recordMark(snapshots, tombstones: tombstones)
        try await removeOldVersions(into: &report)
        return report
    }

    /// A pack under object-lock retention is not rewritten: the copy would not be held.
    private func isRetained(_ pack: PackID, supported: Bool, now: Date, report: inout GarbageReport)
        async throws(StoreError) -> Bool
    {
        guard supported, let until = try await backend.retainedUntil(StoreLayout.pack(pack)), until > now else {
            return false
        }
        report.retainedPacksKept += 1
        return true
    }

    /// In an object-lock bucket (versioned) a delete only hides an object: its old versions go now, unless
    /// retention holds them. A bucket the user versioned for their own safety is left alone, and a failure here
    /// (no permission to list versions) leaves the sweep done and says so in the report.
    private func removeOldVersions(into report: inout GarbageReport) async throws(StoreError) {
        guard try await backend.retentionSupported() else { return }
        do throws(StoreError) {
            let (removed, kept) = try await backend.removeOldVersions()
            report.oldVersionsRemoved = removed
            report.retainedVersionsKept = kept
        } catch {
            report.oldVersionsProblem = error.message
        }
    }

    /// Copies the live records of mostly-dead packs into new packs (durable before anything refers to them);
    /// returns their index entries.
    private static func rewrite(_ packs: [PackID: PackUse], io: ThreadIO, config: StoreConfig) throws(StoreError)
        -> [IndexEntry]
    {
        let buffer = PackBuffer(config: config)
        var written: [IndexEntry] = []
        var keys: [String] = []
        buffer.start()
        func flush() throws(StoreError) {
            guard !buffer.entries.isEmpty else { return }
            let key = StoreLayout.pack(buffer.id)
            try io.putPack(key, buffer.memory, length: buffer.used)
            written += buffer.entries
            keys.append(key)
            buffer.start()
        }
        for (pack, use) in packs {
            let size = Int(try io.size(StoreLayout.pack(pack)))
            var old = [UInt8](repeating: 0, count: size)
            try old.withMutableBytes { (bytes) throws(StoreError) in
                try io.read(StoreLayout.pack(pack), offset: 0, into: bytes)
            }
            for entry in use.live {
                try old.withBytes { (bytes) throws(StoreError) in
                    let payload = try PackFormat.payload(
                        in: bytes, recordAt: Int(entry.location.recordStart),
                        location: entry.location, hash: entry.hash)
                    _ = buffer.append(
                        hash: entry.hash, codec: entry.location.codec,
                        rawLength: Int(entry.location.rawLength), payload: payload)
                }
                if buffer.used >= config.packSize { try flush() }
            }
        }
        try flush()
        if let directory = io.backend as? DirectoryBackend { try directory.syncDirectories(of: keys) }
        return written
    }
}

/// One pack's records as garbage collection sees them.
private struct PackUse {
    var live: [IndexEntry] = []
    var entries = 0
    var totalBytes: UInt64 = 0
    var deadBytes: UInt64 = 0
}
