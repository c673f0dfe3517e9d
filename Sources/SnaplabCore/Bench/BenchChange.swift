import Foundation

/// A +1 % change the snapshot benchmark applies to its volume (and to the peers' raw image): 64 KiB-aligned writes
/// of one chunk each, or the same number of bytes as 4 KiB-aligned writes of 4–64 KiB, which straddle chunks.
struct BenchChange: Sendable {
    struct Write: Sendable {
        var offset: UInt64
        var length: Int
    }

    let name: String
    let writes: [Write]
    let seed: UInt64

    var bytes: UInt64 { writes.reduce(0) { $0 + UInt64($1.length) } }

    /// One 64 KiB chunk in every hundred: 655 writes on 4 GiB.
    static func aligned(volumeSize: UInt64, seed: UInt64) -> BenchChange {
        let chunk: UInt64 = 64 << 10
        let writes = stride(from: UInt64(37), to: volumeSize / chunk, by: 100).map {
            Write(offset: $0 * chunk, length: Int(chunk))
        }
        return BenchChange(name: "+1 % (64 KiB-aligned)", writes: writes, seed: seed)
    }

    /// As many bytes as `aligned`, in writes of 4–64 KiB at 4 KiB-aligned places spread over the volume.
    static func unaligned(volumeSize: UInt64, bytes: UInt64, seed: UInt64) -> BenchChange {
        var random = SplitMix(seed)
        var writes: [Write] = []
        var total: UInt64 = 0
        let pages = volumeSize / 4096
        while total < bytes {
            let length = Int(4096 * (1 + random.next() % 16))
            let page = random.next() % (pages - UInt64(length / 4096))
            writes.append(Write(offset: page * 4096, length: length))
            total += UInt64(length)
        }
        return BenchChange(
            name: "+1 % (4 KiB-aligned, 4–64 KiB)", writes: writes.sorted { $0.offset < $1.offset },
            seed: seed)
    }

    /// Write `number`'s new bytes: random, so that they neither compress nor match anything stored.
    func fill(_ number: Int, into buffer: UnsafeMutableRawBufferPointer) {
        var random = SplitMix(seed &+ UInt64(number) &* 0x2545_F491_4F6C_DD1D)
        MixedVolumeContent.fillRandom(buffer, &random)
    }
}
