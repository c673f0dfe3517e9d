import NBD

/// Which fixed-size chunks a copy must read: runs of consecutive chunk numbers, from the extents a context
/// reports, without listing every chunk (memory follows the number of extents, not the volume's size).
enum ChunkPlan {
    /// The runs of chunks overlapping an extent that `wanted` selects, in order, each chunk once, each run at
    /// most `maximum` chunks long.
    static func runs(overlapping extents: [NBDExtent], chunkSize: Int, maximum: Int, wanted: (UInt32) -> Bool)
        -> [Range<UInt32>]
    {
        let size = UInt64(chunkSize)
        var spans: [Range<UInt32>] = []
        for extent in extents where extent.length > 0 && wanted(extent.flags) {
            var first = UInt32(extent.offset / size)
            let end = UInt32((extent.end - 1) / size) + 1
            if let last = spans.last, last.upperBound >= first {
                first = last.upperBound
                if first < end { spans[spans.count - 1] = last.lowerBound..<end }
                continue
            }
            spans.append(first..<end)
        }
        var runs: [Range<UInt32>] = []
        for span in spans {
            var start = span.lowerBound
            while start < span.upperBound {
                let end = min(span.upperBound, start + UInt32(maximum))
                runs.append(start..<end)
                start = end
            }
        }
        return runs
    }

    /// base:allocation: bit 1 set = reads as zeros.
    static func holdsData(_ flags: UInt32) -> Bool { flags & 2 == 0 }
    /// qemu:dirty-bitmap: bit 0 set = written since the bitmap was created.
    static func isDirty(_ flags: UInt32) -> Bool { flags & 1 != 0 }
}
