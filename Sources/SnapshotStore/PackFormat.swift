import Foundation

/// Where a chunk's stored bytes are.
public struct ChunkLocation: Sendable, Equatable {
    public var packId: String
    /// Offset of the payload (after the record header) inside the pack.
    public var offset: UInt32
    public var length: UInt32
    public var rawLength: UInt32
    public var codec: ChunkCodec
}

/// Packs group many chunks into one object (a 64 KiB chunk per file would be ~65 000 files and fsyncs per
/// 4 GiB). Each record is self-describing so an index can be rebuilt from its pack:
/// `"SLCK" | sha256 (32) | codec (1) | rawLength u32le | length u32le | payload`.
/// The index object lists the records: `"SLIX" 0x01 | count u32le | (sha256, offset, length, rawLength, codec)*`.
enum PackFormat {
    static let recordMagic: [UInt8] = Array("SLCK".utf8)
    static let recordHeaderSize = 4 + 32 + 1 + 4 + 4
    static let indexMagic: [UInt8] = Array("SLIX".utf8) + [1]
    static let indexEntrySize = 32 + 4 + 4 + 4 + 1

    static func appendRecord(to pack: inout Data, hash: ChunkHash, codec: ChunkCodec, rawLength: Int,
                             payload: Data) -> UInt32 {
        pack.append(contentsOf: recordMagic)
        pack.append(contentsOf: hash.bytes)
        pack.append(codec.rawValue)
        appendUInt32(&pack, UInt32(rawLength))
        appendUInt32(&pack, UInt32(payload.count))
        let offset = UInt32(pack.count)
        pack.append(payload)
        return offset
    }

    static func encodeIndex(_ entries: [(ChunkHash, ChunkLocation)]) -> Data {
        var data = Data(indexMagic)
        appendUInt32(&data, UInt32(entries.count))
        for (hash, location) in entries {
            data.append(contentsOf: hash.bytes)
            appendUInt32(&data, location.offset)
            appendUInt32(&data, location.length)
            appendUInt32(&data, location.rawLength)
            data.append(location.codec.rawValue)
        }
        return data
    }

    static func decodeIndex(_ data: Data, packId: String) throws(StoreError) -> [(ChunkHash, ChunkLocation)] {
        let bytes = [UInt8](data)
        guard bytes.count >= indexMagic.count + 4, Array(bytes.prefix(indexMagic.count)) == indexMagic else {
            throw StoreError(.corrupt, "index of pack \(packId) has no valid header")
        }
        let count = Int(readUInt32(bytes, at: indexMagic.count))
        guard bytes.count == indexMagic.count + 4 + count * indexEntrySize else {
            throw StoreError(.corrupt, "index of pack \(packId) is truncated (\(bytes.count) bytes for \(count) entries)")
        }
        var entries: [(ChunkHash, ChunkLocation)] = []
        entries.reserveCapacity(count)
        var position = indexMagic.count + 4
        for _ in 0..<count {
            let hash = bytes[position..<position + 32].withUnsafeBytes { ChunkHash(bytes: $0) }
            guard let codec = ChunkCodec(rawValue: bytes[position + 44]) else {
                throw StoreError(.corrupt, "index of pack \(packId) names an unknown codec")
            }
            let location = ChunkLocation(packId: packId, offset: readUInt32(bytes, at: position + 32),
                                         length: readUInt32(bytes, at: position + 36),
                                         rawLength: readUInt32(bytes, at: position + 40), codec: codec)
            entries.append((hash, location))
            position += indexEntrySize
        }
        return entries
    }

    /// Checks the record header in front of `location` inside `pack` and returns the payload.
    static func payload(in pack: Data, at location: ChunkLocation, hash: ChunkHash) throws(StoreError) -> Data {
        let start = Int(location.offset)
        let headerStart = start - recordHeaderSize
        guard headerStart >= 0, start + Int(location.length) <= pack.count else {
            throw StoreError(.corrupt, "chunk \(hash) lies outside pack \(location.packId)")
        }
        let base = pack.startIndex
        let header = [UInt8](pack[(base + headerStart)..<(base + start)])
        guard Array(header.prefix(4)) == recordMagic, Array(header[4..<36]) == hash.bytes else {
            throw StoreError(.corrupt, "chunk \(hash) has a damaged record header in pack \(location.packId)")
        }
        return pack[(base + start)..<(base + start + Int(location.length))]
    }

    static func appendUInt32(_ data: inout Data, _ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }

    static func readUInt32(_ bytes: [UInt8], at position: Int) -> UInt32 {
        UInt32(bytes[position]) | UInt32(bytes[position + 1]) << 8 | UInt32(bytes[position + 2]) << 16
            | UInt32(bytes[position + 3]) << 24
    }
}
