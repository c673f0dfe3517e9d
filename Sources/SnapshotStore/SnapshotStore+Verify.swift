import Blocking
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
    /// Manifests (or their chunk tables) that cannot be read, with why.
    public var unreadableManifests: [String: String] = [:]
    /// Index objects that cannot be read, with why (`snaplab store repair` rebuilds them from the packs).
    public var unreadableIndexes: [String: String] = [:]

    public var isClean: Bool {
        badChunks.isEmpty && missingChunks.isEmpty && brokenSnapshots.isEmpty && unreadableManifests.isEmpty
            && unreadableIndexes.isEmpty
    }
}

extension SnapshotStore {
    /// Re-hashes stored chunks (all of them, or a random `sample` fraction) and reports which snapshots a bad
    /// or missing chunk breaks. Runs alongside snapshot writers (shared lock).
    public func verify(sample: Double = 1.0, progress: (@Sendable (Double) -> Void)? = nil)
        async throws(StoreError) -> VerifyReport
    {
        try await withSession { (_) async throws(StoreError) in
            try await verifyLocked(sample: sample, progress: progress)
        }
    }

    private func verifyLocked(sample: Double, progress: (@Sendable (Double) -> Void)?)
        async throws(StoreError) -> VerifyReport
    {
        var report = VerifyReport()
        let io = ThreadIO(backend: backend)
        let indexKeys = try await backend.list(prefix: StoreLayout.indexPrefix)
            .filter { StoreLayout.packId(ofIndex: $0) != nil }.sorted()
        for (position, key) in indexKeys.enumerated() {
            var entries: [IndexEntry]
            do throws(StoreError) {
                entries = try PackFormat.decodeIndex(try await backend.get(key), key: key)
            } catch  where error.kind == .corrupt {
                report.unreadableIndexes[key] = error.message
                continue
            }
            if sample < 1.0 { entries = entries.filter { _ in Double.random(in: 0..<1) < sample } }
            let byPack = Dictionary(grouping: entries, by: \.location.pack)
            for (pack, packEntries) in byPack.sorted(by: { $0.key < $1.key }) {
                let keys = self.keys
                let failures = await BlockingPool.run { Self.check(packEntries, in: pack, io: io, keys: keys) }
                report.checkedChunks += packEntries.count
                report.checkedBytes += packEntries.reduce(0) { $0 + UInt64($1.location.rawLength) }
                for (hash, reason) in failures { report.badChunks[hash.hex] = reason }
            }
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
            let known = report.badChunks
            let index = self.index
            let result = await BlockingPool.run { () -> Result<[String], StoreError> in
                do throws(StoreError) {
                    var broken: [String] = []
                    let table = ChunkTableReader(manifest, io: io)
                    while let (_, hash) = try table.next() {
                        if !index.contains(hash) || known[hash.hex] != nil { broken.append(hash.hex) }
                    }
                    return .success(broken)
                } catch {
                    return .failure(error)
                }
            }
            switch result {
            case .failure(let error):
                report.unreadableManifests[snapshotId] = error.message
            case .success(let broken):
                report.checkedSnapshots += 1
                report.missingChunks += broken.filter { known[$0] == nil }
                if !broken.isEmpty { report.brokenSnapshots[snapshotId] = broken.count }
            }
        }
        report.missingChunks = Array(Set(report.missingChunks)).sorted()
        return report
    }

    /// Reads one pack and decodes and hashes every listed chunk of it, on all cores.
    static func check(_ entries: [IndexEntry], in pack: PackID, io: ThreadIO, keys: StoreKeys?)
        -> [(ChunkHash, String)]
    {
        let key = StoreLayout.pack(pack)
        let bytes: [UInt8]
        do throws(StoreError) {
            let size = try io.size(key)
            guard size <= UInt64(UInt32.max) else {
                throw StoreError(.corrupt, "\(key) is \(size) bytes, larger than any pack snaplab writes")
            }
            var data = [UInt8](repeating: 0, count: Int(size))
            try data.withMutableBytes { (buffer) throws(StoreError) in try io.read(key, offset: 0, into: buffer) }
            bytes = data
        } catch {
            return entries.map { ($0.hash, "pack \(pack) cannot be read: \(error.message)") }
        }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        let failures = Slots<String>(count: entries.count)
        bytes.withUnsafeBytes { pack in
            // Workers only read the pack, which outlives them (concurrentPerform returns when all are done).
            nonisolated(unsafe) let pack = pack
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                let coder = ChunkCoder(keys: keys)
                for position in stride(from: worker, to: entries.count, by: workers) {
                    let entry = entries[position]
                    do throws(StoreError) {
                        _ = try decodeChunk(
                            pack, recordAt: Int(entry.location.recordStart), location: entry.location,
                            hash: entry.hash, coder: coder)
                    } catch {
                        failures.set(position, error.message)
                    }
                }
            }
        }
        return failures.values.enumerated().compactMap { position, reason in
            reason.map { (entries[position].hash, $0) }
        }
    }
}

/// Fixed slots that concurrent workers (`DispatchQueue.concurrentPerform`) fill, one slot each.
final class Slots<Value: Sendable>: @unchecked Sendable {
    // @unchecked: each worker writes only its own slot, and the array is read after all workers finished.
    private var storage: [Value?]

    init(count: Int) {
        storage = Array(repeating: nil, count: count)
    }

    func set(_ position: Int, _ value: Value) {
        storage.withUnsafeMutableBufferPointer { $0[position] = value }
    }

    var values: [Value?] { storage }
}
