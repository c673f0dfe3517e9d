import Crypto
import Foundation

/// The SHA-256 of a chunk's uncompressed bytes: its name in the store. Held as four big-endian words, so that
/// comparing words compares bytes (index files are sorted in this order).
public struct ChunkHash: Hashable, Sendable, Comparable, CustomStringConvertible {
    static let byteCount = 32
    private let words: (UInt64, UInt64, UInt64, UInt64)

    public init(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == Self.byteCount)
        words = (
            UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self)),
            UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self)),
            UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self)),
            UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
        )
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
        let digits = Array(hex.utf8)
        guard digits.count == Self.byteCount * 2 else { return nil }
        func value(_ digit: UInt8) -> UInt8? {
            switch digit {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var bytes = [UInt8]()
        bytes.reserveCapacity(Self.byteCount)
        for position in stride(from: 0, to: digits.count, by: 2) {
            guard let high = value(digits[position]), let low = value(digits[position + 1]) else { return nil }
            bytes.append(high << 4 | low)
        }
        self = bytes.withUnsafeBytes { ChunkHash(bytes: $0) }
    }

    static let zero = [UInt8](repeating: 0, count: byteCount).withUnsafeBytes { ChunkHash(bytes: $0) }

    /// The first 64 bits: uniformly spread, so they say where in a sorted index a hash lies.
    var prefix: UInt64 { words.0 }

    func write(to bytes: UnsafeMutableRawBufferPointer) {
        bytes.storeBytes(of: words.0.bigEndian, toByteOffset: 0, as: UInt64.self)
        bytes.storeBytes(of: words.1.bigEndian, toByteOffset: 8, as: UInt64.self)
        bytes.storeBytes(of: words.2.bigEndian, toByteOffset: 16, as: UInt64.self)
        bytes.storeBytes(of: words.3.bigEndian, toByteOffset: 24, as: UInt64.self)
    }

    /// The 32 bytes, in order.
    public var bytes: [UInt8] {
        [UInt8](unsafeUninitializedCapacity: Self.byteCount) { buffer, count in
            write(to: UnsafeMutableRawBufferPointer(buffer))
            count = Self.byteCount
        }
    }

    public var hex: String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8]()
        text.reserveCapacity(Self.byteCount * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 15)])
        }
        return String(decoding: text, as: UTF8.self)
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
        if lhs.words.0 != rhs.words.0 { return lhs.words.0 < rhs.words.0 }
        if lhs.words.1 != rhs.words.1 { return lhs.words.1 < rhs.words.1 }
        if lhs.words.2 != rhs.words.2 { return lhs.words.2 < rhs.words.2 }
        return lhs.words.3 < rhs.words.3
    }
}
