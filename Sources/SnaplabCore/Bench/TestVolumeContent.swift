import Foundation

/// Reproducible volume contents for benchmarks: chunk `i`'s bytes depend only on `i` and a seed. A quarter of
/// the chunks are zero, a quarter compressible text, half random, so hashing, compression and zero-skipping
/// all get their share.
struct TestVolumeContent: Sendable {
    let chunkSize: Int
    let seed: UInt64

    enum Kind { case zero, text, random }

    func kind(of chunk: UInt64) -> Kind {
        switch Self.mix(chunk ^ seed) % 4 {
        case 0: .zero
        case 1: .text
        default: .random
        }
    }

    /// Writes chunk `chunk` (generation `generation`: later generations differ) into `buffer`.
    func fill(_ buffer: UnsafeMutableRawBufferPointer, chunk: UInt64, generation: UInt64 = 0) {
        let words = buffer.bindMemory(to: UInt64.self)
        var state = Self.mix(chunk &+ seed &+ generation &* 0x1000_0000_0000)
        switch kind(of: chunk) {
        case .zero:
            for index in words.indices { words[index] = 0 }
        case .text:
            // A handful of words repeated in a chunk-specific order: compresses about 10:1.
            let vocabulary: [UInt64] = [0x2074_6F68_736E_7061, 0x2065_6D75_6C6F_7620, 0x2079_6461_6572_2020,
                                        0x2073_6B6E_7568_6320, 0x6574_6972_7720_2020, 0x2064_6E65_7070_6120]
            for index in words.indices {
                if index % 64 == 0 { state = Self.mix(state) }
                words[index] = vocabulary[Int((state >> UInt64(index % 8 * 8)) % UInt64(vocabulary.count))]
            }
        case .random:
            for index in words.indices {
                state = Self.mix(state)
                words[index] = state
            }
        }
    }

    /// SplitMix64.
    static func mix(_ value: UInt64) -> UInt64 {
        var z = value &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
