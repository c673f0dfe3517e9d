import Foundation
import NBDServer

/// A completed snapshot as a read-only block device, read from the store on demand: each chunk fetched, decoded
/// and checked against its hash the first time it is read, kept in a bounded cache, with the chunks after it
/// read ahead in the same pack reads. Chunks the snapshot does not list are holes. Holds the session (the
/// store's shared lock) it was opened in, so garbage collection cannot sweep chunks from under a reader.
public final class SnapshotBlockSource: BlockSource, @unchecked Sendable {
    public let size: UInt64
    public let snapshotId: String
    let session: StoreSession
    private let chunkSize: Int
    private let indices: [UInt32]
    private let hashes: [ChunkHash]
    private let io: ThreadIO
    private let lock = NSLock()
    private var cache: [UInt32: CachedChunk] = [:]
    private var clock: UInt64 = 0
    private let cacheChunks: Int
    static let readAhead = 8

    private struct CachedChunk {
        var bytes: Data
        var used: UInt64
    }

    /// Loads the snapshot's chunk table (its checksum checked). `cacheBytes` bounds the decoded chunks kept.
    public init(session: StoreSession, manifest: Manifest, cacheBytes: Int = 64 << 20) throws(StoreError) {
        self.session = session
        snapshotId = manifest.snapshotId
        size = manifest.volumeSize
        chunkSize = manifest.chunkSize
        io = ThreadIO(backend: session.store.backend)
        cacheChunks = max(Self.readAhead * 2, cacheBytes / max(1, manifest.chunkSize))
        var indices: [UInt32] = []
        var hashes: [ChunkHash] = []
        indices.reserveCapacity(manifest.table.entries)
        hashes.reserveCapacity(manifest.table.entries)
        let table = ChunkTableReader(manifest, io: io)
        while let (index, hash) = try table.next() {
            indices.append(index)
            hashes.append(hash)
        }
        self.indices = indices
        self.hashes = hashes
    }

    /// Releases the store's shared lock; no read may follow.
    public func close() async {
        await session.release()
    }

    public func extents(at offset: UInt64, length: UInt64) throws -> [BlockExtent] {
        var extents: [BlockExtent] = []
        var position = offset
        let end = min(size, offset + length)
        var entry = firstEntry(atOrAfter: UInt32(offset / UInt64(chunkSize)))
        while position < end {
            let chunk = UInt32(position / UInt64(chunkSize))
            let chunkEnd = min(size, (UInt64(chunk) + 1) * UInt64(chunkSize))
            let allocated = entry < indices.count && indices[entry] == chunk
            if allocated { entry += 1 }
            let span = min(chunkEnd, end) - position
            if let last = extents.last, last.hole == !allocated {
                extents[extents.count - 1].length += span
            } else {
                extents.append(BlockExtent(length: span, hole: !allocated))
            }
            // A run of holes up to the next listed chunk is one step.
            if !allocated {
                let next = entry < indices.count ? UInt64(indices[entry]) * UInt64(chunkSize) : size
                let holeEnd = min(next, end)
                if holeEnd > chunkEnd {
                    extents[extents.count - 1].length += holeEnd - chunkEnd
                    position = holeEnd
                    continue
                }
            }
            position = min(chunkEnd, end)
        }
        return extents
    }

    public func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws {
        var done = 0
        while done < buffer.count {
            let position = offset + UInt64(done)
            let chunk = UInt32(position / UInt64(chunkSize))
            let within = Int(position % UInt64(chunkSize))
            let span = min(buffer.count - done, chunkSize - within)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + span)])
            let entry = firstEntry(atOrAfter: chunk)
            if entry < indices.count, indices[entry] == chunk {
                let bytes = try chunkBytes(entry)
                guard within + span <= bytes.count else {
                    throw BlockSourceError("chunk \(chunk) of \(snapshotId) is shorter than the volume says")
                }
                bytes.withUnsafeBytes {
                    target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[within..<(within + span)]))
                }
            } else {
                target.initializeMemory(as: UInt8.self, repeating: 0)
            }
            done += span
        }
    }

    /// The position in the table of the first listed chunk at or after `chunk`.
    private func firstEntry(atOrAfter chunk: UInt32) -> Int {
        var low = 0
        var high = indices.count
        while low < high {
            let middle = (low + high) / 2
            if indices[middle] < chunk { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// The decoded bytes of the table's entry `entry`, from the cache or the store (with read-ahead).
    private func chunkBytes(_ entry: Int) throws -> Data {
        let chunk = indices[entry]
        if let cached = lock.withLock({ () -> Data? in
            clock += 1
            cache[chunk]?.used = clock
            return cache[chunk]?.bytes
        }) {
            return cached
        }
        var planned: [PlannedChunk] = []
        for position in entry..<min(indices.count, entry + Self.readAhead) {
            if position > entry, lock.withLock({ cache[indices[position]] != nil }) { continue }
            guard let location = session.store.index.location(of: hashes[position]) else {
                if position == entry {
                    throw BlockSourceError(
                        "chunk \(hashes[position]) of \(snapshotId) is not in the store's index; run `snaplab store verify`"
                    )
                }
                continue
            }
            planned.append(PlannedChunk(index: indices[position], hash: hashes[position], location: location))
        }
        let decoded = try fetch(planned, wanted: chunk)
        lock.withLock {
            for (index, bytes) in decoded {
                clock += 1
                cache[index] = CachedChunk(bytes: bytes, used: clock)
            }
            if cache.count > cacheChunks {
                // Evict the least recently used quarter at once, so eviction is rare.
                let victims = cache.sorted { $0.value.used < $1.value.used }.prefix(cache.count - cacheChunks * 3 / 4)
                for (index, _) in victims { cache.removeValue(forKey: index) }
            }
        }
        guard let bytes = decoded.first(where: { $0.index == chunk })?.bytes else {
            throw BlockSourceError("chunk \(chunk) of \(snapshotId) could not be read")
        }
        return bytes
    }

    /// Reads the planned chunks' records (grouped by pack), decodes them and checks each against its hash. A
    /// chunk read ahead that fails is left out (it fails when it is asked for); the wanted one fails the read.
    private func fetch(_ planned: [PlannedChunk], wanted: UInt32) throws -> [(index: UInt32, bytes: Data)] {
        let coder = session.store.coder()
        var decoded: [(index: UInt32, bytes: Data)] = []
        var failure: StoreError?
        for read in SnapshotReader.reads(planned) {
            let span = Int(read.end - read.start)
            let scratch = UnsafeMutableRawBufferPointer.allocate(
                byteCount: span + SnapshotReader.alignmentSlack, alignment: DirectoryBackend.directAlignment)
            defer { scratch.deallocate() }
            let records: UnsafeRawBufferPointer
            do throws(StoreError) {
                let at = try io.readPack(StoreLayout.pack(read.pack), offset: read.start, length: span, into: scratch)
                records = UnsafeRawBufferPointer(rebasing: scratch[at..<(at + span)])
            } catch {
                if read.positions.contains(where: { planned[$0].index == wanted }) { failure = error }
                continue
            }
            for position in read.positions {
                let chunk = planned[position]
                do throws(StoreError) {
                    decoded.append((chunk.index, try Self.decode(chunk, in: records, from: read.start, coder: coder)))
                } catch {
                    if chunk.index == wanted { failure = error }
                }
            }
        }
        if let failure { throw BlockSourceError(failure.message) }
        return decoded
    }

    private static func decode(
        _ chunk: PlannedChunk, in records: UnsafeRawBufferPointer, from start: UInt64, coder: ChunkCoder
    ) throws(StoreError) -> Data {
        let payload = try PackFormat.payload(
            in: records, recordAt: Int(chunk.location.recordStart - start), location: chunk.location, hash: chunk.hash)
        var bytes = Data(count: Int(chunk.location.rawLength))
        try bytes.withMutableBytes { (destination) throws(StoreError) in
            try coder.decode(payload, codec: chunk.location.codec, hash: chunk.hash, into: destination)
        }
        guard bytes.withUnsafeBytes({ coder.name($0) }) == chunk.hash else {
            throw StoreError(
                .corrupt,
                "chunk \(chunk.hash) in pack \(chunk.location.packId) does not match its hash; the store is damaged (`snaplab store verify` lists what it breaks)"
            )
        }
        return bytes
    }
}
