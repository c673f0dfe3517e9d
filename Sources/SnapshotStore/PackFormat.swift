import Foundation

/// Where a chunk's stored bytes are.
public struct ChunkLocation: Sendable, Equatable {
    public var pack: PackID
    /// Offset of the payload (after the record header) inside the pack.
    public var offset: UInt32
    public var length: UInt32
    public var rawLength: UInt32
    public var codec: ChunkCodec

    public var packId: String { pack.hex }

    /// Where the record (header and payload) starts, and its size.
    var recordStart: UInt64 { UInt64(offset) - UInt64(PackFormat.recordHeaderSize) }
    var recordEnd: UInt64 { UInt64(offset) + UInt64(length) }
}

/// Packs group many chunks into one object (a 64 KiB chunk per file would be ~65 000 files and fsyncs per
/// 4 GiB). Each record is self-describing so an index can be rebuilt from its pack:
/// `"SLCK" | sha256 (32) | codec (1) | rawLength u32le | length u32le | payload`.
///
/// Index objects say which chunks the packs hold. Version 2 (written now) covers every pack one writer made,
/// sorted by hash so that indexes merge as streams: `"SLIX" 0x02 | count u32le | IndexEntry*`. Version 1 (read
/// only) covered one pack, named by the object's key: `"SLIX" 0x01 | count u32le | (sha256, offset, length,
/// rawLength, codec)*`.
enum PackFormat {
    static let recordMagic: [UInt8] = Array("SLCK".utf8)
    static let recordHeaderSize = 4 + 32 + 1 + 4 + 4
    static let indexMagic: [UInt8] = Array("SLIX".utf8)
    static let indexHeaderSize = 4 + 1 + 4
    static let legacyIndexEntrySize = 32 + 4 + 4 + 4 + 1
    /// The largest chunk a store may hold (the largest chunk size a manifest may name).
    static let maxChunkSize = 16 << 20

    /// Refuses a location no writer can have produced: a payload before its header, or lengths past any chunk.
    static func checkLocation(_ location: ChunkLocation, hash: ChunkHash, source: String) throws(StoreError) {
        guard location.offset >= UInt32(recordHeaderSize), location.rawLength <= UInt32(maxChunkSize),
            location.length <= location.rawLength + UInt32(StoreKeys.overhead)
        else {
            throw StoreError(
                .corrupt,
                "\(source) gives chunk \(hash) an impossible place (offset \(location.offset), \(location.length) of \(location.rawLength) bytes); run `snaplab store repair`"
            )
        }
    }

    /// Writes a record header at `position`; the payload follows it.
    static func writeRecordHeader(
        _ bytes: UnsafeMutableRawBufferPointer, at position: Int, hash: ChunkHash,
        codec: ChunkCodec, rawLength: Int, length: Int
    ) {
        for (offset, byte) in recordMagic.enumerated() { bytes[position + offset] = byte }
        hash.write(to: UnsafeMutableRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 36)]))
        bytes[position + 36] = codec.rawValue
        bytes.writeUInt32(UInt32(rawLength), at: position + 37)
        bytes.writeUInt32(UInt32(length), at: position + 41)
    }

    /// Checks the record header in front of `location`, found at `position` of `bytes` (a piece of the pack),
    /// and returns the payload.
    static func payload(
        in bytes: UnsafeRawBufferPointer, recordAt position: Int, location: ChunkLocation,
        hash: ChunkHash
    ) throws(StoreError) -> UnsafeRawBufferPointer {
        let start = position + recordHeaderSize
        guard position >= 0, start + Int(location.length) <= bytes.count else {
            throw StoreError(.corrupt, "chunk \(hash) lies outside pack \(location.packId)")
        }
        let magicMatches = recordMagic.enumerated().allSatisfy { bytes[position + $0.offset] == $0.element }
        let header = ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 36)]))
        guard magicMatches, header == hash else {
            throw StoreError(.corrupt, "chunk \(hash) has a damaged record header in pack \(location.packId)")
        }
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + Int(location.length))])
    }

    /// A version 2 index object of `entries`, which must be sorted by hash.
    static func encodeIndex(_ entries: [IndexEntry]) -> Data {
        var data = Data(count: indexHeaderSize + entries.count * IndexEntry.size)
        data.withUnsafeMutableBytes { bytes in
            for (offset, byte) in indexMagic.enumerated() { bytes[offset] = byte }
            bytes[4] = 2
            bytes.writeUInt32(UInt32(entries.count), at: 5)
            for (number, entry) in entries.enumerated() {
                entry.write(to: bytes, at: indexHeaderSize + number * IndexEntry.size)
            }
        }
        return data
    }

    /// The entries of an index object (either version), sorted by hash.
    static func decodeIndex(_ data: Data, key: String) throws(StoreError) -> [IndexEntry] {
        try data.withBytes { (bytes) throws(StoreError) -> [IndexEntry] in
            let version = try indexVersion(bytes, key: key)
            let count = Int(bytes.readUInt32(at: 5))
            let entrySize = version == 1 ? legacyIndexEntrySize : IndexEntry.size
            guard bytes.count == indexHeaderSize + count * entrySize else {
                throw StoreError(.corrupt, "\(key) is truncated (\(bytes.count) bytes for \(count) entries)")
            }
            var entries: [IndexEntry] = []
            entries.reserveCapacity(count)
            if version == 2 {
                for number in 0..<count {
                    entries.append(
                        try IndexEntry(reading: bytes, at: indexHeaderSize + number * entrySize, source: key))
                }
                guard zip(entries, entries.dropFirst()).allSatisfy({ $0.hash < $1.hash }) else {
                    throw StoreError(.corrupt, "\(key) is not sorted by hash")
                }
                return entries
            }
            guard let pack = StoreLayout.packId(ofIndex: key).flatMap(PackID.init(hex:)) else {
                throw StoreError(.corrupt, "\(key) does not name its pack")
            }
            for number in 0..<count {
                let position = indexHeaderSize + number * entrySize
                let hash = ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + 32)]))
                guard let codec = ChunkCodec(rawValue: bytes[position + 44]) else {
                    throw StoreError(.corrupt, "\(key) names an unknown codec")
                }
                let location = ChunkLocation(
                    pack: pack, offset: bytes.readUInt32(at: position + 32),
                    length: bytes.readUInt32(at: position + 36),
                    rawLength: bytes.readUInt32(at: position + 40), codec: codec)
                try checkLocation(location, hash: hash, source: key)
                entries.append(IndexEntry(hash, location))
            }
            entries.sort { $0.hash < $1.hash }
            return entries
        }
    }

    static func indexVersion(_ bytes: UnsafeRawBufferPointer, key: String) throws(StoreError) -> UInt8 {
        guard bytes.count >= indexHeaderSize, indexMagic.enumerated().allSatisfy({ bytes[$0.offset] == $0.element }),
            [1, 2].contains(bytes[4])
        else {
            throw StoreError(.corrupt, "\(key) has no valid index header")
        }
        return bytes[4]
    }
}
