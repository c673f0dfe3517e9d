import Foundation
import SnapshotStore

/// One chunk after hashing: zero (no hash), already stored (hash, no payload) or new (hash and payload).
struct PreparedChunk: Sendable {
    var index: UInt32
    var rawLength: Int
    var hash: ChunkHash?
    var codec: ChunkCodec = .raw
    var payload: Data?
}

enum ChunkPreparation {
    static let zeros = [UInt8](repeating: 0, count: 1 << 20)

    /// Hashes (and, when the store lacks them, compresses) the chunks of one run, on every core.
    /// `buffer` holds chunks `run` back to back; the last one may be short.
    static func prepare(_ buffer: Data, run: Range<UInt32>, chunkSize: Int, known: ChunkIndex) -> [PreparedChunk] {
        let count = run.count
        let slots = Slots<PreparedChunk>(count: count)
        buffer.withUnsafeBytes { bytes in
            // Workers only read the buffer, which outlives them (concurrentPerform returns when all are done).
            nonisolated(unsafe) let bytes = bytes
            DispatchQueue.concurrentPerform(iterations: count) { position in
                let start = position * chunkSize
                let length = min(chunkSize, bytes.count - start)
                let chunk = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
                var prepared = PreparedChunk(index: run.lowerBound + UInt32(position), rawLength: length)
                if !isZero(chunk) {
                    let hash = ChunkHash.of(chunk)
                    prepared.hash = hash
                    if !known.contains(hash) {
                        (prepared.codec, prepared.payload) = ChunkCompression.encode(chunk)
                    }
                }
                slots.set(position, prepared)
            }
        }
        return slots.values.compactMap { $0 }
    }

    static func isZero(_ chunk: UnsafeRawBufferPointer) -> Bool {
        guard let base = chunk.baseAddress else { return true }
        var offset = 0
        while offset < chunk.count {
            let length = min(zeros.count, chunk.count - offset)
            let equal = zeros.withUnsafeBytes { zero in
                guard let zeroBase = zero.baseAddress else { return false }
                return memcmp(base + offset, zeroBase, length) == 0
            }
            if !equal { return false }
            offset += length
        }
        return true
    }
}
