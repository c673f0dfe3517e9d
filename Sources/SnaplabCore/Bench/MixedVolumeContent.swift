import Foundation

/// The benchmark volume: 16 MiB extents at seeded places (3/8 of the volume), holding in turn random bytes,
/// text, binary-like records, a copy of an earlier extent placed 4 KiB off its original alignment, and written
/// zeros; the rest is never written. Everything follows from the seed, so every tool and every run sees the
/// same bytes.
struct MixedVolumeContent: Sendable {
    static let extentSize = 16 << 20
    static let kinds: [Kind] = [.random, .text, .binary, .duplicate, .zeros, .random]

    enum Kind: String, Sendable, Codable { case random, text, binary, duplicate, zeros }

    struct Extent: Sendable {
        /// Where it starts, in extents from the volume's start.
        var slot: Int
        var kind: Kind
        /// For a duplicate: the extent (position in `extents`) it copies.
        var source: Int?
    }

    let size: UInt64
    let seed: UInt64
    let extents: [Extent]

    init(size: UInt64, seed: UInt64) {
        self.size = size
        self.seed = seed
        let slots = Int(size / UInt64(Self.extentSize))
        var order = Array(0..<slots)
        var random = SplitMix(seed)
        for position in stride(from: order.count - 1, to: 0, by: -1) {
            order.swapAt(position, Int(random.next() % UInt64(position + 1)))
        }
        let chosen = order.prefix(max(1, slots * 3 / 8)).sorted()
        var extents: [Extent] = []
        for (number, slot) in chosen.enumerated() {
            let kind = Self.kinds[number % Self.kinds.count]
            var source: Int?
            if kind == .duplicate {
                let candidates = extents.indices.filter { [.random, .text, .binary].contains(extents[$0].kind) }
                source = candidates.isEmpty ? nil : candidates[Int(random.next() % UInt64(candidates.count))]
            }
            extents.append(
                Extent(slot: slot, kind: source == nil && kind == .duplicate ? .random : kind, source: source))
        }
        self.extents = extents
    }

    /// Bytes written into the volume (zeros included: they are written, so allocated).
    var allocatedBytes: UInt64 { UInt64(extents.count) * UInt64(Self.extentSize) }

    func offset(of extent: Extent) -> UInt64 { UInt64(extent.slot) * UInt64(Self.extentSize) }

    /// Fills `buffer` (one extent's size) with extent `number`'s bytes.
    func fill(_ number: Int, into buffer: UnsafeMutableRawBufferPointer) {
        let extent = extents[number]
        var random = SplitMix(seed &+ UInt64(extent.slot) &* 0x9E37_79B9)
        switch extent.kind {
        case .zeros:
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
        case .random:
            Self.fillRandom(buffer, &random)
        case .text:
            Self.fillText(buffer, &random)
        case .binary:
            Self.fillBinary(buffer, &random)
        case .duplicate:
            fill(extent.source ?? 0, into: buffer)
            // Shift by 4 KiB: the same bytes, no longer at the chunk boundaries they had.
            guard let base = buffer.baseAddress else { return }
            let head = [UInt8](UnsafeRawBufferPointer(rebasing: buffer[0..<4096]))
            memmove(base, base + 4096, buffer.count - 4096)
            head.withUnsafeBytes {
                UnsafeMutableRawBufferPointer(rebasing: buffer[(buffer.count - 4096)...]).copyMemory(from: $0)
            }
        }
    }

    static func fillRandom(_ buffer: UnsafeMutableRawBufferPointer, _ random: inout SplitMix) {
        let words = buffer.bindMemory(to: UInt64.self)
        for index in words.indices { words[index] = random.next() }
    }

    /// Words of a small vocabulary, frequent ones far more often (as in prose), in lines of varying length.
    static func fillText(_ buffer: UnsafeMutableRawBufferPointer, _ random: inout SplitMix) {
        var position = 0
        var wordsOnLine = 0
        while position < buffer.count {
            let draw = random.next()
            // Squaring a uniform draw skews it towards the start of the vocabulary.
            let uniform = Double(draw >> 11) / Double(1 << 53)
            let word = vocabulary[Int(uniform * uniform * Double(vocabulary.count))]
            for byte in word where position < buffer.count {
                buffer[position] = byte
                position += 1
            }
            wordsOnLine += 1
            if position < buffer.count {
                let endLine = wordsOnLine > 6 && draw & 7 == 0
                buffer[position] = endLine ? 0x0A : (draw & 31 == 1 ? 0x2C : 0x20)
                position += 1
                if endLine { wordsOnLine = 0 }
            }
        }
    }

    /// 32-byte records: a counter, a small integer, flags, a timestamp-like value and 8 random bytes.
    static func fillBinary(_ buffer: UnsafeMutableRawBufferPointer, _ random: inout SplitMix) {
        let words = buffer.bindMemory(to: UInt64.self)
        var counter = random.next() & 0xFFFF_FFFF
        var clock = 1_700_000_000_000 + (random.next() & 0xFFFF_FFFF)
        var index = 0
        while index + 4 <= words.count {
            let draw = random.next()
            counter += 1
            clock += draw & 0x3FF
            words[index] = counter
            words[index + 1] = (draw >> 16) & 0xFFFF | (draw & 0x3) << 32
            words[index + 2] = clock
            words[index + 3] = random.next()
            index += 4
        }
    }

    static let vocabulary: [[UInt8]] = """
        the of and to in a is that for it as was with be by on not he this are or his from at which but have an \
        they you were their one all we can her has there been if more when will would who so no volume snapshot \
        block chunk store image instance restore backup data disk write read change policy retention daily \
        weekly hourly kernel guest network packet cluster bitmap checkpoint manifest pack index hash verify \
        consistent frozen journal replay filesystem extent sparse allocated compress decompress throughput
        """.split(separator: " ").map { Array($0.utf8) }
}

/// SplitMix64: fast, seedable, good enough for test data.
struct SplitMix: Sendable {
    private var state: UInt64

    init(_ seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
