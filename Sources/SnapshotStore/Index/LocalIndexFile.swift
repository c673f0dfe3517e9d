import Foundation

/// The store's chunk index as one local file, sorted by hash, so that lookups cost one small `pread` and memory
/// stays flat whatever the store's size. Only a fan-out table (where each hash prefix starts) is held in
/// memory. A cache: rebuilt from the store's index objects whenever it is missing, damaged or out of date.
///
/// Layout: a 64-byte header (`"SLLX" 0x01`, entry count u64 @8, fan-out bits @16, fan-out offset u64 @24,
/// sources offset u64 @32, sources length u64 @40), the entries (`IndexEntry`, 61 bytes each) from byte 64, the
/// fan-out table (u64 entry numbers), and the keys of the index objects it was built from (one per line).
final class LocalIndexFile: @unchecked Sendable {
    // @unchecked: immutable after init; `pread` on one descriptor is safe from several threads.
    static let headerSize = 64
    static let magic: [UInt8] = Array("SLLX".utf8) + [1]

    let path: String
    let count: Int
    /// The index objects whose entries it holds.
    let sources: Set<String>
    private let descriptor: Int32
    private let fanoutBits: Int
    private let fanout: [UInt64]

    init(path: String) throws(StoreError) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw StoreError(
                errno == ENOENT ? .notFound : .io, "cannot open the local index \(path): \(FileIO.errorText())")
        }
        do throws(StoreError) {
            let layout = try Self.readLayout(descriptor, path: path)
            self.path = path
            self.descriptor = descriptor
            count = layout.count
            fanoutBits = layout.bits
            fanout = layout.fanout
            sources = layout.sources
        } catch {
            close(descriptor)
            throw error
        }
    }

    private static func readLayout(_ descriptor: Int32, path: String) throws(StoreError)
        -> (count: Int, bits: Int, fanout: [UInt64], sources: Set<String>)
    {
        var header = [UInt8](repeating: 0, count: headerSize)
        try header.withMutableBytes { (bytes) throws(StoreError) in try read(descriptor, bytes, at: 0, path: path) }
        let (rawCount, bits, fanoutOffset, sourcesOffset, rawSourcesLength) = header.withUnsafeBytes { bytes in
            (
                bytes.readUInt64(at: 8), Int(bytes[16]), bytes.readUInt64(at: 24), bytes.readUInt64(at: 32),
                bytes.readUInt64(at: 40)
            )
        }
        // Every number is bounded before it is used: 2^40 entries is 64 PiB of chunks.
        var info = stat()
        guard Array(header.prefix(magic.count)) == magic, (0...24).contains(bits), rawCount <= 1 << 40,
            rawSourcesLength < 1 << 30,
            fanoutOffset == UInt64(headerSize) + rawCount * UInt64(IndexEntry.size),
            sourcesOffset == fanoutOffset + UInt64((1 << bits) + 1) * 8,
            fstat(descriptor, &info) == 0, UInt64(info.st_size) == sourcesOffset + rawSourcesLength
        else {
            throw StoreError(.corrupt, "the local index \(path) is damaged")
        }
        let count = Int(rawCount)
        let sourcesLength = Int(rawSourcesLength)
        var fanout = [UInt64](repeating: 0, count: (1 << bits) + 1)
        try fanout.withMutableBytes { (bytes) throws(StoreError) in
            try read(descriptor, bytes, at: fanoutOffset, path: path)
        }
        fanout = fanout.map { UInt64(littleEndian: $0) }
        // Buckets stay small (a lookup reads one whole bucket): a damaged fan-out could make one hold everything.
        guard fanout.last == UInt64(count), fanout.first == 0,
            zip(fanout, fanout.dropFirst()).allSatisfy({ $0 <= $1 && $1 - $0 <= 1 << 16 })
        else {
            throw StoreError(.corrupt, "the local index \(path) is damaged")
        }
        var sources = [UInt8](repeating: 0, count: sourcesLength)
        try sources.withMutableBytes { (bytes) throws(StoreError) in
            try read(descriptor, bytes, at: sourcesOffset, path: path)
        }
        let keys = Set(String(decoding: sources, as: UTF8.self).split(separator: "\n").map(String.init))
        return (count, bits, fanout, keys)
    }

    deinit {
        close(descriptor)
    }

    func location(of hash: ChunkHash) throws(StoreError) -> ChunkLocation? {
        let bucket = fanoutBits == 0 ? 0 : Int(hash.prefix >> UInt64(64 - fanoutBits))
        let first = Int(fanout[bucket])
        let end = Int(fanout[bucket + 1])
        guard end > first else { return nil }
        let length = (end - first) * IndexEntry.size
        let path = self.path
        let descriptor = self.descriptor
        return try withUnsafeTemporaryAllocation(byteCount: length, alignment: 8) {
            (bytes) throws(StoreError) -> ChunkLocation? in
            try Self.read(descriptor, bytes, at: UInt64(Self.headerSize + first * IndexEntry.size), path: path)
            let entries = UnsafeRawBufferPointer(bytes)
            var low = 0
            var high = end - first
            while low < high {
                let middle = (low + high) / 2
                let position = middle * IndexEntry.size
                let found = ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: entries[position..<(position + 32)]))
                if found == hash { return try IndexEntry(reading: entries, at: position, source: path).location }
                if found < hash { low = middle + 1 } else { high = middle }
            }
            return nil
        }
    }

    /// Every entry, in hash order.
    func entries() -> BlockEntryStream {
        let descriptor = self.descriptor
        let path = self.path
        return BlockEntryStream(source: path, start: UInt64(Self.headerSize), count: count) {
            (offset, buffer) throws(StoreError) in
            try Self.read(descriptor, buffer, at: offset, path: path)
        }
    }

    static func read(_ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, path: String)
        throws(StoreError)
    {
        try FileIO.readExactly(descriptor, buffer, at: offset, path: "the local index \(path)")
    }

    /// Writes a new index file at `path` from `entries` (sorted, no duplicates) and opens it. `expected` (an
    /// upper bound of the entry count) sizes the fan-out: about eight entries per bucket.
    static func write(_ entries: inout some IndexEntryStream, expected: Int, sources: Set<String>, to path: String)
        throws(StoreError) -> LocalIndexFile
    {
        var bits = 0
        while bits < 22, (1 << bits) * 8 < expected { bits += 1 }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StoreError(.io, "cannot create the local index \(path): \(DirectoryBackend.errorText())")
        }
        var fanout = [UInt64](repeating: 0, count: (1 << bits) + 1)
        var filledBuckets = 0
        var count = 0
        var block = [UInt8](repeating: 0, count: 1 << 20)
        var used = Self.headerSize
        func flush() throws(StoreError) {
            try block.withBytes { (bytes) throws(StoreError) in
                try FileIO.writeAll(descriptor, UnsafeRawBufferPointer(rebasing: bytes[0..<used]), path: path)
            }
            used = 0
        }
        do throws(StoreError) {
            while let entry = try entries.next() {
                let bucket = bits == 0 ? 0 : Int(entry.hash.prefix >> UInt64(64 - bits))
                while filledBuckets <= bucket {
                    fanout[filledBuckets] = UInt64(count)
                    filledBuckets += 1
                }
                if used + IndexEntry.size > block.count { try flush() }
                let position = used
                block.withUnsafeMutableBytes { entry.write(to: $0, at: position) }
                used += IndexEntry.size
                count += 1
            }
            while filledBuckets < fanout.count {
                fanout[filledBuckets] = UInt64(count)
                filledBuckets += 1
            }
            try flush()
            let fanoutOffset = UInt64(Self.headerSize) + UInt64(count) * UInt64(IndexEntry.size)
            let sourceBytes = Array(sources.sorted().joined(separator: "\n").utf8)
            var tail = Data(capacity: fanout.count * 8 + sourceBytes.count)
            for value in fanout { withUnsafeBytes(of: value.littleEndian) { tail.append(contentsOf: $0) } }
            tail.append(contentsOf: sourceBytes)
            try tail.withBytes { (bytes) throws(StoreError) in try FileIO.writeAll(descriptor, bytes, path: path) }
            var header = [UInt8](repeating: 0, count: Self.headerSize)
            header.withUnsafeMutableBytes { bytes in
                for (offset, byte) in magic.enumerated() { bytes[offset] = byte }
                bytes.writeUInt64(UInt64(count), at: 8)
                bytes[16] = UInt8(bits)
                bytes.writeUInt64(fanoutOffset, at: 24)
                bytes.writeUInt64(fanoutOffset + UInt64(fanout.count) * 8, at: 32)
                bytes.writeUInt64(UInt64(sourceBytes.count), at: 40)
            }
            let wrote = header.withUnsafeBytes { pwrite(descriptor, $0.baseAddress, $0.count, 0) }
            guard wrote == Self.headerSize else {
                throw StoreError(.io, "cannot write the local index \(path): \(DirectoryBackend.errorText())")
            }
            close(descriptor)
        } catch {
            close(descriptor)
            unlink(path)
            throw error
        }
        return try LocalIndexFile(path: path)
    }
}
