import CNBD

/// A run of bytes with the same status in one metadata context.
public struct NBDExtent: Sendable, Equatable {
    public var offset: UInt64
    public var length: UInt64
    /// Context-specific flags: for `base:allocation` bit 0 = hole, bit 1 = reads as zeros; for
    /// `qemu:dirty-bitmap:…` bit 0 = dirty.
    public var flags: UInt32

    public init(offset: UInt64, length: UInt64, flags: UInt32) {
        self.offset = offset
        self.length = length
        self.flags = flags
    }

    public var end: UInt64 { offset + length }
}

/// Collects the extents libnbd's C callback reports, per context.
private final class ExtentCollector {
    var extents: [String: [NBDExtent]] = [:]
}

extension NBDConnection {
    public static let allocationContext = "base:allocation"

    /// Every extent of the listed contexts covering the whole export, asking at most `step` bytes at a time.
    public func extents(contexts: [String], step: UInt64 = 1 << 30) throws(NBDError) -> [String: [NBDExtent]] {
        let total = try size()
        var result: [String: [NBDExtent]] = Dictionary(uniqueKeysWithValues: contexts.map { ($0, []) })
        var covered: [String: UInt64] = Dictionary(uniqueKeysWithValues: contexts.map { ($0, 0) })
        while let next = covered.values.min(), next < total {
            let count = min(step, total - next)
            let collector = ExtentCollector()
            let callback = nbd_extent_callback(
                callback: { userData, context, offset, entries, count, _ in
                    guard let userData, let context, let entries else { return 0 }
                    let collector = Unmanaged<ExtentCollector>.fromOpaque(userData).takeUnretainedValue()
                    let name = String(cString: context)
                    var position = offset
                    var list = collector.extents[name] ?? []
                    for pair in stride(from: 0, to: count - 1, by: 2) {
                        let length = UInt64(entries[pair])
                        list.append(NBDExtent(offset: position, length: length, flags: entries[pair + 1]))
                        position += length
                    }
                    collector.extents[name] = list
                    return 0
                },
                user_data: Unmanaged.passUnretained(collector).toOpaque(),
                free: nil)
            let status = withExtendedLifetime(collector) { nbd_block_status(handle, count, next, callback, 0) }
            if status < 0 { throw NBDError.last("nbd_block_status(\(next))") }
            // The server may answer for less than asked, and differently per context: keep, per context, only
            // what lies past what that context already covered.
            for context in contexts {
                let start = covered[context] ?? 0
                var end = start
                for extent in collector.extents[context] ?? [] where extent.end > start {
                    var kept = extent
                    if kept.offset < start {
                        kept.length -= start - kept.offset
                        kept.offset = start
                    }
                    result[context, default: []].append(kept)
                    end = kept.end
                }
                if end == start && start == next {
                    throw NBDError(
                        operation: "nbd_block_status(\(next))",
                        message: "the server reported no extents for \(context)", errno: 0)
                }
                covered[context] = end
            }
        }
        return result.mapValues { Self.clip($0, to: total) }
    }

    private static func clip(_ extents: [NBDExtent], to total: UInt64) -> [NBDExtent] {
        extents.compactMap { extent in
            guard extent.offset < total else { return nil }
            var clipped = extent
            clipped.length = min(extent.length, total - extent.offset)
            return clipped
        }
    }
}
