import CZstd
import Foundation

/// One thread's chunk work: zero test, hash, and zstd with contexts made once (not per chunk, which costs an
/// allocation of about a megabyte each time); in an encrypted store, keyed names and opening sealed payloads.
final class ChunkCoder {
    /// Never written after it is made, so sharing it between threads is safe.
    nonisolated(unsafe) private static let zeros: UnsafeRawBufferPointer = {
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        bytes.initializeMemory(as: UInt8.self, repeating: 0)
        return UnsafeRawBufferPointer(bytes)
    }()

    private let compressor: OpaquePointer
    private let decompressor: OpaquePointer
    let keys: StoreKeys?

    init(keys: StoreKeys? = nil) {
        self.keys = keys
        guard let compressor = ZSTD_createCCtx(), let decompressor = ZSTD_createDCtx() else {
            fatalError("zstd could not allocate a context: out of memory")
        }
        self.compressor = compressor
        self.decompressor = decompressor
    }

    deinit {
        ZSTD_freeCCtx(compressor)
        ZSTD_freeDCtx(decompressor)
    }

    static func isZero(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard let base = chunk.baseAddress else { return true }
        // Most data chunks differ in their first word: answer those without touching the rest.
        if chunk.count >= 8, chunk.loadUnaligned(as: UInt64.self) != 0 { return false }
        var offset = 0
        while offset < chunk.count {
            let length = min(zeros.count, chunk.count - offset)
            if let zero = zeros.baseAddress, memcmp(base + offset, zero, length) != 0 { return false }
            offset += length
        }
        return true
    }

    /// The most a compressed chunk may take and still be stored compressed (it must save 1/16).
    static func compressedLimit(_ rawLength: Int) -> Int { rawLength - rawLength / 16 - 1 }

    /// Compresses `raw` into `destination` (at least `compressedLimit(raw.count)` bytes). Returns `.zstd` and the
    /// compressed length, or `.raw` when compressing does not save enough (store `raw` itself then).
    func encode(_ raw: UnsafeRawBufferPointer, into destination: UnsafeMutableRawBufferPointer) -> (ChunkCodec, Int) {
        let limit = min(destination.count, Self.compressedLimit(raw.count))
        guard limit > 0 else { return (.raw, raw.count) }
        let written = ZSTD_compressCCtx(
            compressor, destination.baseAddress, limit, raw.baseAddress, raw.count,
            ChunkCompression.level)
        if snaplab_zstd_failed(written) == 0, written <= limit { return (.zstd, written) }
        return (.raw, raw.count)
    }

    /// The chunk's name in this store.
    func name(_ bytes: UnsafeRawBufferPointer) -> ChunkHash { keys?.name(bytes) ?? ChunkHash.of(bytes) }
    func name(_ data: Data) -> ChunkHash { data.withUnsafeBytes { name($0) } }

    /// Writes the raw bytes of a stored record's payload into `destination` (exactly the raw length), opening
    /// it first in an encrypted store (the chunk's name is the seal's associated data).
    func decode(
        _ payload: UnsafeRawBufferPointer, codec: ChunkCodec, hash: ChunkHash,
        into destination: UnsafeMutableRawBufferPointer
    ) throws(StoreError) {
        guard let keys else { return try decode(payload, codec: codec, into: destination) }
        let name = hash.bytes
        let opened = name.withUnsafeBytes { keys.open(payload, context: $0) }
        guard let opened else {
            throw StoreError(
                .corrupt,
                "chunk \(hash) fails authentication: its record was changed or belongs to another store; the store is damaged (`snaplab store verify` lists what it breaks)"
            )
        }
        try opened.withBytes { (plain) throws(StoreError) in try decode(plain, codec: codec, into: destination) }
    }

    /// Writes the raw bytes of a plain payload into `destination`, which must be exactly its raw length.
    func decode(_ payload: UnsafeRawBufferPointer, codec: ChunkCodec, into destination: UnsafeMutableRawBufferPointer)
        throws(StoreError)
    {
        switch codec {
        case .raw:
            guard payload.count == destination.count else {
                throw StoreError(.corrupt, "raw chunk has \(payload.count) bytes, expected \(destination.count)")
            }
            destination.copyMemory(from: payload)
        case .zstd:
            let produced = ZSTD_decompressDCtx(
                decompressor, destination.baseAddress, destination.count,
                payload.baseAddress, payload.count)
            guard snaplab_zstd_failed(produced) == 0, produced == destination.count else {
                throw StoreError(.corrupt, "zstd chunk does not decompress to \(destination.count) bytes")
            }
        }
    }
}
