/// The transmission phase of one connection: requests served in order until `DISC` or the client goes. Reads
/// answer holes as holes (structured replies); `BLOCK_STATUS` reports `base:allocation`.
struct NBDTransmission {
    let socket: NBDSocket
    let source: any BlockSource
    let structuredReplies: Bool
    let baseAllocation: Bool

    func run() throws {
        var buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 4096)
        defer { buffer.deallocate() }
        while true {
            guard try socket.u32() == NBD.requestMagic else { return }
            let flags = try socket.u16()
            let type = try socket.u16()
            let cookie = try socket.u64()
            let offset = try socket.u64()
            let length = try socket.u32()
            switch NBD.Command(rawValue: type) {
            case .disconnect:
                return
            case .read:
                guard let error = check(offset, length) else {
                    if buffer.count < Int(length) {
                        buffer.deallocate()
                        buffer = .allocate(byteCount: Int(length), alignment: 4096)
                    }
                    try read(cookie, offset, UnsafeMutableRawBufferPointer(rebasing: buffer[0..<Int(length)]), flags)
                    continue
                }
                try fail(cookie, error, "read outside the export or too large", structured: structuredReplies)
            case .blockStatus:
                guard baseAllocation, structuredReplies else {
                    try fail(cookie, NBD.Errno.einval, "no base:allocation context was negotiated", structured: true)
                    continue
                }
                // A client may ask about more than it could read at once: the answer covers a prefix.
                if let error = check(offset, min(length, NBD.maxRequest)) {
                    try fail(cookie, error, "block status outside the export", structured: true)
                    continue
                }
                let described = UInt32(min(UInt64(length), NBD.maxBlockStatus, source.size - offset))
                try blockStatus(cookie, offset, described, onlyOne: flags & NBD.CommandFlag.requestOne != 0)
            case .flush, .cache:
                try simple(cookie, 0)
            case .write:
                // The data follows the request: take it off the wire before refusing.
                var left = Int(length)
                while left > 0 {
                    let piece = min(left, 1 << 20)
                    _ = try socket.readExactly(piece)
                    left -= piece
                }
                try simple(cookie, NBD.Errno.eperm)
            case .trim, .writeZeroes:
                try simple(cookie, NBD.Errno.eperm)
            case nil:
                try simple(cookie, NBD.Errno.einval)
            }
        }
    }

    private func check(_ offset: UInt64, _ length: UInt32) -> UInt32? {
        if length > NBD.maxRequest { return NBD.Errno.eoverflow }
        let (end, overflow) = offset.addingReportingOverflow(UInt64(length))
        return overflow || end > source.size ? NBD.Errno.einval : nil
    }

    private func read(_ cookie: UInt64, _ offset: UInt64, _ buffer: UnsafeMutableRawBufferPointer, _ flags: UInt16)
        throws
    {
        let length = UInt64(buffer.count)
        let whole = flags & NBD.CommandFlag.dontFragment != 0 || !structuredReplies
        let extents: [BlockExtent]
        do {
            extents = length == 0 || whole ? [] : clip(try source.extents(at: offset, length: length), to: length)
            // Only holes, sent as holes, need no read.
            if whole || extents.contains(where: { !$0.hole }) {
                try source.read(at: offset, into: buffer)
            }
        } catch {
            let message = (error as? BlockSourceError)?.message ?? "\(error)"
            return try fail(cookie, NBD.Errno.eio, message, structured: structuredReplies)
        }
        guard structuredReplies else {
            var header = NBDBytes()
            header.u32(NBD.simpleReplyMagic)
            header.u32(0)
            header.u64(cookie)
            try socket.write(header.bytes)
            return try socket.write(UnsafeRawBufferPointer(buffer))
        }
        if extents.isEmpty {
            return try data(cookie, offset, UnsafeRawBufferPointer(buffer), done: true)
        }
        // One chunk per extent within the request: holes as holes.
        var position: UInt64 = 0
        for (number, extent) in extents.enumerated() {
            let last = number == extents.count - 1
            let span = UnsafeRawBufferPointer(rebasing: buffer[Int(position)..<Int(position + extent.length)])
            if extent.hole {
                var chunk = header(cookie, NBD.ReplyType.offsetHole, length: 12, done: last)
                chunk.u64(offset + position)
                chunk.u32(UInt32(extent.length))
                try socket.write(chunk.bytes)
            } else {
                try data(cookie, offset + position, span, done: last)
            }
            position += extent.length
        }
    }

    /// The extents cut to exactly `length` bytes (a source may describe more; it must describe at least the
    /// first byte, and what it leaves out is read as data).
    private func clip(_ extents: [BlockExtent], to length: UInt64) -> [BlockExtent] {
        var clipped: [BlockExtent] = []
        var covered: UInt64 = 0
        for extent in extents where covered < length {
            let part = min(extent.length, length - covered)
            guard part > 0 else { continue }
            clipped.append(BlockExtent(length: part, hole: extent.hole))
            covered += part
        }
        if covered < length { clipped.append(BlockExtent(length: length - covered, hole: false)) }
        return clipped
    }

    private func data(_ cookie: UInt64, _ offset: UInt64, _ bytes: UnsafeRawBufferPointer, done: Bool) throws {
        var chunk = header(cookie, NBD.ReplyType.offsetData, length: UInt32(8 + bytes.count), done: done)
        chunk.u64(offset)
        try socket.write(chunk.bytes)
        try socket.write(bytes)
    }

    private func blockStatus(_ cookie: UInt64, _ offset: UInt64, _ length: UInt32, onlyOne: Bool) throws {
        var extents: [BlockExtent]
        do {
            extents = clip(try source.extents(at: offset, length: UInt64(length)), to: UInt64(length))
        } catch {
            let message = (error as? BlockSourceError)?.message ?? "\(error)"
            return try fail(cookie, NBD.Errno.eio, message, structured: true)
        }
        // Neighbours of one kind are one descriptor.
        var merged: [BlockExtent] = []
        for extent in extents {
            if let last = merged.last, last.hole == extent.hole {
                merged[merged.count - 1].length += extent.length
            } else {
                merged.append(extent)
            }
        }
        if onlyOne { merged = Array(merged.prefix(1)) }
        var chunk = header(cookie, NBD.ReplyType.blockStatus, length: UInt32(4 + 8 * merged.count), done: true)
        chunk.u32(NBD.baseAllocationId)
        for extent in merged {
            chunk.u32(UInt32(extent.length))
            chunk.u32(extent.hole ? NBD.State.hole | NBD.State.zero : 0)
        }
        try socket.write(chunk.bytes)
    }

    private func header(_ cookie: UInt64, _ type: UInt16, length: UInt32, done: Bool) -> NBDBytes {
        var bytes = NBDBytes()
        bytes.u32(NBD.structuredReplyMagic)
        bytes.u16(done ? NBD.replyFlagDone : 0)
        bytes.u16(type)
        bytes.u64(cookie)
        bytes.u32(length)
        return bytes
    }

    private func simple(_ cookie: UInt64, _ error: UInt32) throws {
        var bytes = NBDBytes()
        bytes.u32(NBD.simpleReplyMagic)
        bytes.u32(error)
        bytes.u64(cookie)
        try socket.write(bytes.bytes)
    }

    private func fail(_ cookie: UInt64, _ error: UInt32, _ message: String, structured: Bool) throws {
        guard structured else { return try simple(cookie, error) }
        let text = Array(message.utf8.prefix(4096))
        var chunk = header(cookie, NBD.ReplyType.error, length: UInt32(6 + text.count), done: true)
        chunk.u32(error)
        chunk.u16(UInt16(text.count))
        chunk.bytes += text
        try socket.write(chunk.bytes)
    }
}
