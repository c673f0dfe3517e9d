import Foundation
import Testing

@testable import SnapshotStore

/// The mark's hash set agrees with `Set<ChunkHash>` through growth, repeats and hashes that share a prefix.
@Suite struct ChunkHashSetTests {
    @Test func agreesWithSetThroughGrowthAndRepeats() {
        var generator = SystemRandomNumberGenerator()
        var expected = Set<ChunkHash>()
        var set = ChunkHashSet(minimumCapacity: 4)
        var samples: [ChunkHash] = []
        for round in 0..<20_000 {
            var bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            // Every tenth hash shares its first 64 bits with an earlier one: it must still be told apart.
            if round % 10 == 9, let earlier = samples.randomElement(using: &generator) {
                withUnsafeBytes(of: earlier.prefix.bigEndian) { bytes.replaceSubrange(0..<8, with: $0) }
            }
            let hash = bytes.withUnsafeBytes { ChunkHash(bytes: $0) }
            samples.append(hash)
            set.insert(hash)
            expected.insert(hash)
            if round % 3 == 0, let again = samples.randomElement(using: &generator) {
                set.insert(again)
                expected.insert(again)
            }
        }
        #expect(set.count == expected.count)
        for hash in samples { #expect(set.contains(hash)) }
        for _ in 0..<1000 {
            let stranger = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }.withUnsafeBytes {
                ChunkHash(bytes: $0)
            }
            #expect(set.contains(stranger) == expected.contains(stranger))
        }
        #expect(!set.contains(ChunkHash.zero))
        set.insert(ChunkHash.zero)
        #expect(set.contains(ChunkHash.zero) && set.count == expected.count + 1, "the zero hash is a hash too")
    }
}
