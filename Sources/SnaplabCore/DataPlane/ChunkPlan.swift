import NBD

/// Which fixed-size chunks a copy must read, and in what runs.
enum ChunkPlan {
    /// The chunks that overlap an extent `wanted` selects, in order, each once.
    static func chunks(overlapping extents: [NBDExtent], chunkSize: Int, wanted: (UInt32) -> Bool) -> [UInt32] {
        var result: [UInt32] = []
        let size = UInt64(chunkSize)
        for extent in extents where extent.length > 0 && wanted(extent.flags) {
            let first = UInt32(extent.offset / size)
            let last = UInt32((extent.end - 1) / size)
            var chunk = first
            if let previous = result.last, previous >= chunk { chunk = previous + 1 }
            while chunk <= last {
                result.append(chunk)
                chunk += 1
            }
        }
        return result
    }

    /// Consecutive chunk numbers grouped into runs of at most `maximum`.
    static func runs(_ chunks: [UInt32], maximum: Int) -> [Range<UInt32>] {
        var runs: [Range<UInt32>] = []
        var start: UInt32?
        var end: UInt32 = 0
        for chunk in chunks {
            if let current = start, chunk == end, Int(end - current) < maximum {
                end += 1
            } else {
                if let current = start { runs.append(current..<end) }
                start = chunk
                end = chunk + 1
            }
        }
        if let current = start { runs.append(current..<end) }
        return runs
    }

    /// base:allocation: bit 1 set = reads as zeros.
    static func holdsData(_ flags: UInt32) -> Bool { flags & 2 == 0 }
    /// qemu:dirty-bitmap: bit 0 set = written since the bitmap was created.
    static func isDirty(_ flags: UInt32) -> Bool { flags & 1 != 0 }
}
