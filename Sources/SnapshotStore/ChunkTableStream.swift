import Crypto
import Foundation

/// A snapshot's chunk table, read in chunk order a block at a time from its table object (format 2) or from the
/// manifest itself (format 1). The object's checksum and entry count are checked when the end is reached, so a
/// damaged table fails the restore or copy that reads it. Blocking; one thread at a time.
final class ChunkTableReader {
    static let entrySize = 36
    static let blockEntries = 8 * 1024

    private let manifest: Manifest
    private let key: String
    private let io: ThreadIO
    private var block: [UInt8] = []
    private var blockCount = 0
    private var positionInBlock = 0
    private var read = 0
    private var digest = SHA256()
    private var previous: UInt32?
    private var finished = false

    init(_ manifest: Manifest, io: ThreadIO) {
        self.manifest = manifest
        key = StoreLayout.table(manifest.snapshotId)
        self.io = io
    }

    /// The next (chunk number, hash), or nil after the last one.
    func next() throws(StoreError) -> (UInt32, ChunkHash)? {
        if let embedded = manifest.embeddedChunks {
            guard read < embedded.count else { return nil }
            defer { read += 1 }
            return (embedded.indices[read], embedded.hashes[read])
        }
        if positionInBlock == blockCount {
            guard try loadBlock() else { return nil }
        }
        let position = positionInBlock * Self.entrySize
        let entry = block.withUnsafeBytes { bytes in
            (
                bytes.readUInt32(at: position),
                ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 36)]))
            )
        }
        positionInBlock += 1
        if let previous, entry.0 <= previous {
            throw StoreError(.corrupt, "the chunk table of \(manifest.snapshotId) is not in chunk order")
        }
        guard entry.0 < manifest.chunkCount else {
            throw StoreError(
                .corrupt, "the chunk table of \(manifest.snapshotId) names chunk \(entry.0), past the volume's end")
        }
        previous = entry.0
        return entry
    }

    /// The next chunk with where `index` says its record is, checked to hold the chunk's length. A chunk the
    /// index lacks first reads the rest of the table: a damaged table is reported as such rather than as
    /// whatever its damage looked like.
    func nextLocated(in index: ChunkIndex) throws(StoreError) -> PlannedChunk? {
        guard let (number, hash) = try next() else { return nil }
        guard let location = index.location(of: hash) else {
            while try next() != nil {}
            throw StoreError(
                .notFound,
                "snapshot \(manifest.snapshotId) needs chunk \(hash), which the store does not have; run `snaplab store verify`"
            )
        }
        guard Int(location.rawLength) == manifest.chunkLength(number) else {
            while try next() != nil {}
            throw StoreError(
                .corrupt,
                "chunk \(hash) holds \(location.rawLength) bytes but chunk \(number) of \(manifest.snapshotId) has \(manifest.chunkLength(number)); the store is damaged"
            )
        }
        return PlannedChunk(index: number, hash: hash, location: location)
    }

    private func loadBlock() throws(StoreError) -> Bool {
        let left = manifest.table.entries - read
        if left == 0 {
            if !finished {
                finished = true
                try checkDigest()
            }
            return false
        }
        blockCount = min(Self.blockEntries, left)
        let length = blockCount * Self.entrySize
        if block.count < length { block = [UInt8](repeating: 0, count: length) }
        let offset = UInt64(read) * UInt64(Self.entrySize)
        try block.withMutableBytes { (bytes) throws(StoreError) in
            try io.read(key, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<length]))
        }
        block.withUnsafeBytes { digest.update(bufferPointer: UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
        read += blockCount
        positionInBlock = 0
        if read == manifest.table.entries { try checkDigest() }
        return true
    }

    private func checkDigest() throws(StoreError) {
        finished = true
        let size = try io.size(key)
        guard size == UInt64(manifest.table.entries) * UInt64(Self.entrySize),
            ChunkHash(digest: digest.finalize()).hex == manifest.table.sha256
        else {
            throw StoreError(
                .corrupt,
                "the chunk table of \(manifest.snapshotId) does not match its checksum; the store is damaged (`snaplab store verify` lists what it breaks)"
            )
        }
    }
}

/// Writes a chunk table as it is produced, in chunk order, to a file next to where it will be published; keeps
/// its checksum and what it covers. Blocking; one thread at a time.
final class ChunkTableSpool {
    private let path: String
    private let descriptor: Int32
    private var buffer: [UInt8] = []
    private var digest = SHA256()
    private(set) var entries = 0
    private(set) var allocatedBytes: UInt64 = 0
    private let volumeSize: UInt64
    private let chunkSize: UInt64
    private var closed = false

    init(directory: String, volumeSize: UInt64, chunkSize: Int) throws(StoreError) {
        try DirectoryBackend.makeDirectory(directory)
        path = (directory as NSString).appendingPathComponent(".tmp-table-\(UUID().uuidString)")
        descriptor = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError(.io, "cannot create \(path): \(DirectoryBackend.errorText())") }
        self.volumeSize = volumeSize
        self.chunkSize = UInt64(chunkSize)
        buffer.reserveCapacity(1 << 20)
    }

    deinit {
        discard()
    }

    /// Removes the spooled table (the snapshot failed or was abandoned).
    func discard() {
        guard !closed else { return }
        closed = true
        close(descriptor)
        unlink(path)
    }

    func append(_ index: UInt32, _ hash: ChunkHash) throws(StoreError) {
        var value = index.littleEndian
        withUnsafeBytes(of: &value) { buffer.append(contentsOf: $0) }
        buffer.append(contentsOf: hash.bytes)
        entries += 1
        allocatedBytes += min(chunkSize, volumeSize - UInt64(index) * chunkSize)
        if buffer.count >= 1 << 20 { try flush() }
    }

    private func flush() throws(StoreError) {
        try buffer.withBytes { (bytes) throws(StoreError) in
            digest.update(bufferPointer: bytes)
            try FileIO.writeAll(descriptor, bytes, path: path)
        }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Stores the table under `key` (renamed into place for a directory store, uploaded otherwise) and returns
    /// what the manifest says about it.
    func publish(as key: String, io: ThreadIO) throws(StoreError) -> ChunkTableInfo {
        try flush()
        let info = ChunkTableInfo(
            entries: entries, sha256: ChunkHash(digest: digest.finalize()).hex,
            allocatedBytes: allocatedBytes)
        if let directory = io.backend as? DirectoryBackend {
            if fsync(descriptor) != 0 { throw StoreError(.io, "cannot fsync \(path): \(DirectoryBackend.errorText())") }
            let target = directory.path(key)
            try DirectoryBackend.makeDirectory((target as NSString).deletingLastPathComponent)
            if rename(path, target) == 0 {
                closed = true
                close(descriptor)
                try DirectoryBackend.syncDirectory((target as NSString).deletingLastPathComponent)
                return info
            }
        }
        var data = Data(count: entries * ChunkTableReader.entrySize)
        let size = data.count
        let descriptor = self.descriptor
        let path = self.path
        try data.withMutableBytes { (bytes) throws(StoreError) in
            try FileIO.readExactly(
                descriptor, UnsafeMutableRawBufferPointer(rebasing: bytes[0..<size]), at: 0, path: path)
        }
        try io.put(key, data)
        discard()
        return info
    }
}
