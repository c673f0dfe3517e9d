import Blocking
import Foundation

/// What `repair` did.
public struct RepairReport: Sendable, Codable, Equatable {
    /// Packs whose records were read to rebuild their index entries.
    public var packsScanned = 0
    /// Chunks found whole (header, length and hash checked) and indexed again.
    public var chunksIndexed = 0
    /// Stretches of a pack that held no readable record (skipped up to the next record header).
    public var damagedStretches = 0
    /// Index objects that did not read and were replaced.
    public var indexesReplaced: [String] = []
}

extension SnapshotStore {
    /// Rebuilds index objects from the packs, whose records describe themselves. When every index object
    /// reads, only packs that none describes are scanned (a writer died before indexing them); when one does
    /// not, or with `full`, every pack is, and the rebuilt index replaces all index objects. Takes the
    /// exclusive lock, like garbage collection. Chunks are indexed only when their bytes match their hash.
    public func repair(full: Bool = false, timeout: Duration = .seconds(600)) async throws(StoreError) -> RepairReport {
        try await withStoreLock(exclusive: true, timeout: timeout) { () async throws(StoreError) in
            try await repairLocked(full: full)
        }
    }

    private func repairLocked(full: Bool) async throws(StoreError) -> RepairReport {
        var report = RepairReport()
        let io = ThreadIO(backend: backend)
        let indexKeys = try await backend.list(prefix: StoreLayout.indexPrefix).filter {
            StoreLayout.packId(ofIndex: $0) != nil
        }
        var described = Set<PackID>()
        for key in indexKeys {
            do throws(StoreError) {
                for entry in try PackFormat.decodeIndex(try await backend.get(key), key: key) {
                    described.insert(entry.location.pack)
                }
            } catch  where error.kind == .corrupt {
                report.indexesReplaced.append(key)
            }
        }
        let rebuildAll = full || !report.indexesReplaced.isEmpty
        var found: [ChunkHash: IndexEntry] = [:]
        for key in try await backend.list(prefix: StoreLayout.packsPrefix).sorted() {
            guard let pack = StoreLayout.packId(ofPack: key).flatMap(PackID.init(hex:)) else { continue }
            if !rebuildAll && described.contains(pack) { continue }
            let keys = self.keys
            let (entries, damaged) = try await BlockingPool.run { () throws(StoreError) in
                try Self.scan(pack, io: io, keys: keys)
            }
            report.packsScanned += 1
            report.damagedStretches += damaged
            for entry in entries where found[entry.hash] == nil { found[entry.hash] = entry }
        }
        report.chunksIndexed = found.count
        report.indexesReplaced.sort()

        // New index objects first, then the ones they replace: every step leaves each chunk findable.
        let entries = found.values.sorted { $0.hash < $1.hash }
        var start = 0
        while start < entries.count {
            let piece = Array(entries[start..<min(start + SnapshotWriter.publishEvery, entries.count)])
            try await backend.put(StoreLayout.index(PackID.random().hex), PackFormat.encodeIndex(piece))
            start += piece.count
        }
        if rebuildAll {
            for key in indexKeys { try await backend.delete(key) }
        }
        try await reloadIndex()
        return report
    }

    /// The whole records of one pack. A stretch that is not a record (damaged bytes) is skipped up to the next
    /// record header; a record whose bytes do not match its hash is left out.
    static func scan(_ pack: PackID, io: ThreadIO, keys: StoreKeys?) throws(StoreError)
        -> (entries: [IndexEntry], damaged: Int)
    {
        let key = StoreLayout.pack(pack)
        let size = try io.size(key)
        guard size <= UInt64(UInt32.max) else {
            throw StoreError(.corrupt, "\(key) is \(size) bytes, larger than any pack snaplab writes")
        }
        var bytes = [UInt8](repeating: 0, count: Int(size))
        try bytes.withMutableBytes { (buffer) throws(StoreError) in try io.read(key, offset: 0, into: buffer) }
        let coder = ChunkCoder(keys: keys)
        return bytes.withUnsafeBytes { bytes in
            var entries: [IndexEntry] = []
            var damaged = 0
            var inDamage = false
            var position = 0
            while position + PackFormat.recordHeaderSize <= bytes.count {
                if let entry = record(in: bytes, at: position, pack: pack, coder: coder) {
                    entries.append(entry)
                    position = Int(entry.location.recordEnd)
                    inDamage = false
                    continue
                }
                if !inDamage { damaged += 1 }
                inDamage = true
                position += 1
            }
            if position < bytes.count && !inDamage { damaged += 1 }
            return (entries, damaged)
        }
    }

    /// The record at `position`, if a whole one starts there and its payload matches its hash.
    private static func record(in bytes: UnsafeRawBufferPointer, at position: Int, pack: PackID, coder: ChunkCoder)
        -> IndexEntry?
    {
        guard PackFormat.recordMagic.enumerated().allSatisfy({ bytes[position + $0.offset] == $0.element }),
            let codec = ChunkCodec(rawValue: bytes[position + 36])
        else { return nil }
        let hash = ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 36)]))
        let location = ChunkLocation(
            pack: pack, offset: UInt32(position + PackFormat.recordHeaderSize),
            length: bytes.readUInt32(at: position + 41), rawLength: bytes.readUInt32(at: position + 37), codec: codec)
        guard (try? PackFormat.checkLocation(location, hash: hash, source: "")) != nil,
            Int(location.recordEnd) <= bytes.count,
            (try? decodeChunk(bytes, recordAt: position, location: location, hash: hash, coder: coder)) != nil
        else { return nil }
        return IndexEntry(hash, location)
    }
}
