import Crypto
import Foundation

/// A volume's non-zero chunks in memory: chunk number → content hash, in chunk order. Chunks not listed read as
/// zeros. Format 1 manifests embed it as base64 of `(index u32le, sha256)*` plus its own SHA-256; format 2 keeps
/// the same entries in a table object of its own, read as a stream (`ChunkTableReader`).
public struct ChunkTable: Sendable, Equatable {
    public private(set) var indices: [UInt32] = []
    public private(set) var hashes: [ChunkHash] = []

    public init() {}

    /// Builds from a dictionary (any order).
    public init(_ map: [UInt32: ChunkHash]) {
        for (index, hash) in map.sorted(by: { $0.key < $1.key }) {
            indices.append(index)
            hashes.append(hash)
        }
    }

    public var count: Int { indices.count }

    /// Adds an entry after the last one (chunk numbers must increase).
    public mutating func append(_ index: UInt32, _ hash: ChunkHash) {
        precondition(indices.last.map { $0 < index } ?? true, "chunk table entries must come in chunk order")
        indices.append(index)
        hashes.append(hash)
    }

    public var map: [UInt32: ChunkHash] {
        Dictionary(uniqueKeysWithValues: zip(indices, hashes))
    }

    public func forEach(_ body: (UInt32, ChunkHash) throws -> Void) rethrows {
        for position in indices.indices {
            try body(indices[position], hashes[position])
        }
    }

    var encoded: Data {
        var data = Data(capacity: count * 36)
        forEach { index, hash in
            withUnsafeBytes(of: index.littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: hash.bytes)
        }
        return data
    }

    init(encoded data: Data) throws(StoreError) {
        guard data.count % 36 == 0 else { throw StoreError(.corrupt, "chunk table has a partial entry") }
        let (indices, hashes) = data.withUnsafeBytes { bytes -> ([UInt32], [ChunkHash]) in
            var indices: [UInt32] = []
            var hashes: [ChunkHash] = []
            for position in stride(from: 0, to: bytes.count, by: 36) {
                indices.append(bytes.readUInt32(at: position))
                hashes.append(
                    ChunkHash(bytes: UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 36)])))
            }
            return (indices, hashes)
        }
        guard zip(indices, indices.dropFirst()).allSatisfy({ $0 < $1 }) else {
            throw StoreError(.corrupt, "chunk table is not in chunk order")
        }
        self.indices = indices
        self.hashes = hashes
    }
}

extension ChunkTable: Codable {
    private enum CodingKeys: String, CodingKey {
        case entries
        case sha256
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        let data = encoded
        try container.encode(data.base64EncodedString(), forKey: .entries)
        try container.encode(ChunkHash.of(data).hex, forKey: .sha256)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guard let data = Data(base64Encoded: try container.decode(String.self, forKey: .entries)) else {
            throw StoreError(.corrupt, "chunk table is not base64")
        }
        guard ChunkHash.of(data).hex == (try container.decode(String.self, forKey: .sha256)) else {
            throw StoreError(.corrupt, "chunk table does not match its checksum")
        }
        try self.init(encoded: data)
    }
}
