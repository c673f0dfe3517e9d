/// One chunk of the store and where its record is, in the fixed 61-byte form that index objects and the local
/// index file share: `sha256 (32) | pack (16) | offset u32le | length u32le | rawLength u32le | codec (1)`.
struct IndexEntry: Sendable, Equatable {
    static let size = 61

    var hash: ChunkHash
    var location: ChunkLocation

    init(_ hash: ChunkHash, _ location: ChunkLocation) {
        self.hash = hash
        self.location = location
    }

    init(reading bytes: UnsafeRawBufferPointer, at position: Int, source: String) throws(StoreError) {
        hash = ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[position..<(position + 32)]))
        let pack = PackID(bytes: UnsafeRawBufferPointer(rebasing: bytes[(position + 32)..<(position + 48)]))
        guard let codec = ChunkCodec(rawValue: bytes[position + 60]) else {
            throw StoreError(.corrupt, "\(source) names an unknown codec")
        }
        location = ChunkLocation(
            pack: pack, offset: bytes.readUInt32(at: position + 48),
            length: bytes.readUInt32(at: position + 52),
            rawLength: bytes.readUInt32(at: position + 56), codec: codec)
        try PackFormat.checkLocation(location, hash: hash, source: source)
    }

    func write(to bytes: UnsafeMutableRawBufferPointer, at position: Int) {
        hash.write(to: UnsafeMutableRawBufferPointer(rebasing: bytes[position..<(position + 32)]))
        location.pack.write(to: UnsafeMutableRawBufferPointer(rebasing: bytes[(position + 32)..<(position + 48)]))
        bytes.writeUInt32(location.offset, at: position + 48)
        bytes.writeUInt32(location.length, at: position + 52)
        bytes.writeUInt32(location.rawLength, at: position + 56)
        bytes[position + 60] = location.codec.rawValue
    }
}

extension UnsafeRawBufferPointer {
    func readUInt32(at position: Int) -> UInt32 {
        UInt32(littleEndian: loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    func readUInt64(at position: Int) -> UInt64 {
        UInt64(littleEndian: loadUnaligned(fromByteOffset: position, as: UInt64.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    func writeUInt32(_ value: UInt32, at position: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt32.self)
    }

    func writeUInt64(_ value: UInt64, at position: Int) {
        storeBytes(of: value.littleEndian, toByteOffset: position, as: UInt64.self)
    }
}
