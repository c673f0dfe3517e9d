import Crypto
import Foundation

/// The SHA-256 of a chunk's uncompressed bytes: its name in the store.
public struct ChunkHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    static let byteCount = 32
    private let words: (UInt64, UInt64, UInt64, UInt64)

    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == Self.byteCount)
        words = (bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self),
                 bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self),
                 bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self),
                 bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    public init(digest: SHA256.Digest) {
        self = digest.withUnsafeBytes { ChunkHash(bytes: $0) }
    }

    /// Hashes `data` (the chunk's raw bytes).
    public static func of(_ data: UnsafeRawBufferPointer) -> ChunkHash {
        ChunkHash(digest: SHA256.hash(data: data))
    }

    public static func of(_ data: Data) -> ChunkHash {
        ChunkHash(digest: SHA256.hash(data: data))
    }

    public init?(hex: String) {
        guard hex.count == Self.byteCount * 2 else { return nil }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.byteCount)
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            guard let byte = UInt8(hex[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self = bytes.withUnsafeBytes { ChunkHash(bytes: $0) }
    }

    /// The 32 bytes, in order.
    public var bytes: [UInt8] {
        var copy = words
        return withUnsafeBytes(of: &copy) { Array($0) }
    }

    public var hex: String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    public var description: String { hex }

    public static func == (lhs: ChunkHash, rhs: ChunkHash) -> Bool {
        lhs.words == rhs.words
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(words.0)
        hasher.combine(words.1)
    }

    public static func < (lhs: ChunkHash, rhs: ChunkHash) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}
