import CZstd
import Foundation

/// How a chunk's bytes are stored.
public enum ChunkCodec: UInt8, Sendable, Codable {
    /// As is: compression would not have shrunk it enough to pay for decompressing.
    case raw = 0
    case zstd = 1
}

/// zstd (fast level) for chunks; a chunk is kept raw unless compression saves at least 1/16 of it.
public enum ChunkCompression {
    static let level: Int32 = 1

    /// The stored form of `raw`: codec and payload.
    public static func encode(_ raw: UnsafeRawBufferPointer) -> (ChunkCodec, Data) {
        let bound = ZSTD_compressBound(raw.count)
        var output = Data(count: bound)
        let written = output.withUnsafeMutableBytes { destination in
            ZSTD_compress(destination.baseAddress, bound, raw.baseAddress, raw.count, level)
        }
        if snaplab_zstd_failed(written) == 0, written < raw.count - raw.count / 16 {
            output.count = written
            return (.zstd, output)
        }
        return (.raw, Data(raw))
    }

    /// The raw bytes of a stored chunk; throws if the payload does not decode to exactly `rawLength` bytes.
    public static func decode(_ payload: Data, codec: ChunkCodec, rawLength: Int) throws(StoreError) -> Data {
        switch codec {
        case .raw:
            guard payload.count == rawLength else {
                throw StoreError(.corrupt, "raw chunk has \(payload.count) bytes, expected \(rawLength)")
            }
            return payload
        case .zstd:
            var output = Data(count: rawLength)
            let produced = output.withUnsafeMutableBytes { destination in
                payload.withUnsafeBytes { source in
                    ZSTD_decompress(destination.baseAddress, rawLength, source.baseAddress, source.count)
                }
            }
            guard snaplab_zstd_failed(produced) == 0, produced == rawLength else {
                throw StoreError(.corrupt, "zstd chunk does not decompress to \(rawLength) bytes")
            }
            return output
        }
    }
}
