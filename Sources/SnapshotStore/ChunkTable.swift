import Crypto
import Foundation

/// A volume's non-zero chunks: chunk number → content hash, in chunk order. Chunks not listed read as zeros.
/// Encoded in manifests as base64 of `(index u32le, sha256)*` plus its own SHA-256, so a damaged manifest is
/// detected rather than restored wrongly.
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
            PackFormat.appendUInt32(&data, index)
            data.append(contentsOf: hash.bytes)
        }
        return data
    }

    init(encoded data: Data) throws(StoreError) {
        let bytes = [UInt8](data)
        guard bytes.count % 36 == 0 else { throw StoreError(.corrupt, "chunk table has a partial entry") }
        var position = 0
        var previous: UInt32?
        while position < bytes.count {
            let index = PackFormat.readUInt32(bytes, at: position)
            if let previous, index <= previous { throw StoreError(.corrupt, "chunk table is not in chunk order") }
            indices.append(index)
            hashes.append(bytes[(position + 4)..<(position + 36)].withUnsafeBytes { ChunkHash(bytes: $0) })
            previous = index
            position += 36
        }
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
