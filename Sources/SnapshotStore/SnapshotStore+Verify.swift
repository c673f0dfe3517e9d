import Foundation

/// What `verify` found.
public struct VerifyReport: Sendable, Codable, Equatable {
    public var checkedChunks = 0
    public var checkedBytes: UInt64 = 0
    public var checkedSnapshots = 0
    /// Chunk hash → why it is bad (hash mismatch, damaged record, missing pack).
    public var badChunks: [String: String] = [:]
    /// Chunks that manifests list but no index holds.
    public var missingChunks: [String] = []
    /// Snapshot → how many of its chunks are bad or missing: these snapshots cannot be restored.
    public var brokenSnapshots: [String: Int] = [:]
    /// Manifests that cannot be read, with why.
    public var unreadableManifests: [String: String] = [:]

    public var isClean: Bool {
        badChunks.isEmpty && missingChunks.isEmpty && brokenSnapshots.isEmpty && unreadableManifests.isEmpty
    }
}

extension SnapshotStore {
    /// Re-hashes stored chunks (all of them, or a random `sample` fraction) and reports which snapshots a bad
    /// or missing chunk breaks. Runs alongside snapshot writers (shared lock).
    public func verify(sample: Double = 1.0, progress: (@Sendable (Double) -> Void)? = nil)
        async throws(StoreError) -> VerifyReport
    {
        try await withStoreLock(exclusive: false, timeout: .seconds(600)) { () async throws(StoreError) in
            try await verifyLocked(sample: sample, progress: progress)
        }
    }

    private func verifyLocked(sample: Double, progress: (@Sendable (Double) -> Void)?)
        async throws(StoreError) -> VerifyReport
    {
        try await reloadIndex()
        var report = VerifyReport()
        let indexKeys = try await backend.list(prefix: StoreLayout.indexPrefix).sorted()
        for (position, key) in indexKeys.enumerated() {
            guard let packId = StoreLayout.packId(ofIndex: key) else { continue }
            var entries = try PackFormat.decodeIndex(try await backend.get(key), packId: packId)
            if sample < 1.0 { entries = entries.filter { _ in Double.random(in: 0..<1) < sample } }
            if entries.isEmpty { continue }
            let checking = entries
            let pack: Data
            do {
                pack = try await readPack(packId)
            } catch {
                for (hash, _) in entries { report.badChunks[hash.hex] = "pack \(packId) cannot be read: \(error.message)" }
                continue
            }
            let failures = await BlockingIO.runInfallible { Self.check(checking, in: pack) }
            report.checkedChunks += entries.count
            report.checkedBytes += entries.reduce(0) { $0 + UInt64($1.1.rawLength) }
            for (hash, reason) in failures { report.badChunks[hash.hex] = reason }
            progress?(Double(position + 1) / Double(max(1, indexKeys.count)))
        }
        for snapshotId in try await snapshotIds() {
            let manifest: Manifest
            do {
                manifest = try await self.manifest(snapshotId)
            } catch {
                report.unreadableManifests[snapshotId] = error.message
                continue
            }
            report.checkedSnapshots += 1
            var broken = 0
            manifest.chunks.forEach { _, hash in
                if !index.contains(hash) {
                    broken += 1
                    report.missingChunks.append(hash.hex)
                } else if report.badChunks[hash.hex] != nil {
                    broken += 1
                }
            }
            if broken > 0 { report.brokenSnapshots[snapshotId] = broken }
        }
        report.missingChunks = Array(Set(report.missingChunks)).sorted()
        return report
    }

    /// Decodes and hashes every listed chunk of one pack, on all cores.
    static func check(_ entries: [(ChunkHash, ChunkLocation)], in pack: Data) -> [(ChunkHash, String)] {
        let failures = Slots<String>(count: entries.count)
        DispatchQueue.concurrentPerform(iterations: entries.count) { position in
            let (hash, location) = entries[position]
            do {
                _ = try decodeChunk(in: pack, at: location, hash: hash)
            } catch {
                failures.set(position, (error as? StoreError)?.message ?? "\(error)")
            }
        }
        return failures.values.enumerated().compactMap { position, reason in
            reason.map { (entries[position].0, $0) }
        }
    }
}

/// Fixed slots that concurrent workers (`DispatchQueue.concurrentPerform`) fill, one slot each.
public final class Slots<Value: Sendable>: @unchecked Sendable {
    // @unchecked: each worker writes only its own slot, and the array is read after all workers finished.
    private var storage: [Value?]

    public init(count: Int) {
        storage = Array(repeating: nil, count: count)
    }

    public func set(_ position: Int, _ value: Value) {
        storage.withUnsafeMutableBufferPointer { $0[position] = value }
    }

    public var values: [Value?] { storage }
}
