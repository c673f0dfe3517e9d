import Foundation

/// How a chunk's bytes are stored.
public enum ChunkCodec: UInt8, Sendable, Codable {
    /// As is: compression would not have shrunk it enough to pay for decompressing.
    case raw = 0
    case zstd = 1
}

/// zstd for chunks at level -1, the first of its fast levels: on the benchmark's text and binary-like extents it
/// compresses about a third faster than level 1 for about 1 % more stored bytes, and compression is most of the
/// CPU a snapshot costs. A chunk is kept raw unless compression saves at least 1/16 of it. The pipelines use a
/// `ChunkCoder` per thread; these one-off forms are for callers outside them.
public enum ChunkCompression {
    static let level: Int32 = -1

    /// The stored form of `raw`: codec and payload.
    public static func encode(_ raw: UnsafeRawBufferPointer) -> (ChunkCodec, Data) {
        var output = Data(count: ChunkCoder.compressedLimit(raw.count) + 1)
        let (codec, length) = output.withUnsafeMutableBytes { ChunkCoder().encode(raw, into: $0) }
        guard codec == .zstd else { return (.raw, Data(raw)) }
        output.count = length
        return (.zstd, output)
    }

    /// The raw bytes of a stored chunk; throws if the payload does not decode to exactly `rawLength` bytes.
    public static func decode(_ payload: Data, codec: ChunkCodec, rawLength: Int) throws(StoreError) -> Data {
        var output = Data(count: rawLength)
        try payload.withBytes { (source) throws(StoreError) in
            try output.withMutableBytes { (destination) throws(StoreError) in
                try ChunkCoder().decode(source, codec: codec, into: destination)
            }
        }
        return output
    }
}
