/// The handshake of one connection: fixed newstyle option haggling until the client picks an export (`GO` or
/// the old `EXPORT_NAME`) or leaves.
struct NBDNegotiation {
    let socket: NBDSocket
    let lookup: (String) -> (any BlockSource)?
    let names: () -> [String]
    var structuredReplies = false
    var baseAllocation = false

    /// The export the client chose and its source, or nil when it left.
    mutating func run() throws -> (name: String, source: any BlockSource)? {
        var hello = NBDBytes()
        hello.u64(NBD.initMagic)
        hello.u64(NBD.optionMagic)
        hello.u16(NBD.HandshakeFlag.fixedNewstyle | NBD.HandshakeFlag.noZeroes)
        try socket.write(hello.bytes)
        let clientFlags = try socket.u32()
        guard clientFlags & NBD.ClientFlag.fixedNewstyle != 0 else { return nil }
        let noZeroes = clientFlags & NBD.ClientFlag.noZeroes != 0
        while true {
            guard try socket.u64() == NBD.optionMagic else { return nil }
            let option = try socket.u32()
            let length = try socket.u32()
            guard length <= NBD.maxOptionLength else { return nil }
            var data = NBDReader(try socket.readExactly(Int(length)))
            switch NBD.Option(rawValue: option) {
            case .exportName:
                let name = String(decoding: data.rest(), as: UTF8.self)
                guard let source = lookup(name) else { return nil }
                var reply = NBDBytes()
                reply.u64(source.size)
                reply.u16(transmissionFlags)
                if !noZeroes { reply.bytes += [UInt8](repeating: 0, count: 124) }
                try socket.write(reply.bytes)
                return (name, source)
            case .abort:
                try reply(option, .ack)
                return nil
            case .list:
                for name in names() {
                    var entry = NBDBytes()
                    entry.u32(UInt32(name.utf8.count))
                    entry.text(name)
                    try reply(option, .server, entry.bytes)
                }
                try reply(option, .ack)
            case .structuredReply:
                structuredReplies = true
                try reply(option, .ack)
            case .info, .go:
                guard let name = data.string(), let count = data.u16(), data.skip(Int(count) * 2) else {
                    try reply(option, .errInvalid, message: "malformed request")
                    continue
                }
                guard let source = lookup(name) else {
                    try reply(option, .errUnknown, message: "no export named '\(name)'")
                    continue
                }
                var export = NBDBytes()
                export.u16(NBD.Info.export)
                export.u64(source.size)
                export.u16(transmissionFlags)
                try reply(option, .info, export.bytes)
                var sizes = NBDBytes()
                sizes.u16(NBD.Info.blockSize)
                sizes.u32(1)
                sizes.u32(4096)
                sizes.u32(NBD.maxRequest)
                try reply(option, .info, sizes.bytes)
                try reply(option, .ack)
                if NBD.Option(rawValue: option) == .go { return (name, source) }
            case .listMetaContext, .setMetaContext:
                let setting = NBD.Option(rawValue: option) == .setMetaContext
                guard structuredReplies else {
                    try reply(option, .errInvalid, message: "negotiate structured replies first")
                    continue
                }
                guard let name = data.string(), let count = data.u32(), lookup(name) != nil else {
                    try reply(option, .errInvalid, message: "malformed request, or no such export")
                    continue
                }
                var queries: [String] = []
                for _ in 0..<count {
                    guard let query = data.string() else { break }
                    queries.append(query)
                }
                let matches =
                    queries.contains(NBD.baseAllocation) || (!setting && (count == 0 || queries.contains("base:")))
                if setting { baseAllocation = matches }
                if matches {
                    var context = NBDBytes()
                    context.u32(NBD.baseAllocationId)
                    context.text(NBD.baseAllocation)
                    try reply(option, .metaContext, context.bytes)
                }
                try reply(option, .ack)
            case .startTLS, nil:
                try reply(option, .errUnsupported, message: "not supported by this server")
            }
        }
    }

    var transmissionFlags: UInt16 {
        NBD.TransmissionFlag.hasFlags | NBD.TransmissionFlag.readOnly | NBD.TransmissionFlag.canMultiConn
            | (structuredReplies ? NBD.TransmissionFlag.sendDF : 0)
    }

    private func reply(_ option: UInt32, _ type: NBD.Reply, _ data: [UInt8] = [], message: String? = nil) throws {
        let payload = message.map { Array($0.utf8) } ?? data
        var bytes = NBDBytes()
        bytes.u64(NBD.replyMagic)
        bytes.u32(option)
        bytes.u32(type.rawValue)
        bytes.u32(UInt32(payload.count))
        bytes.bytes += payload
        try socket.write(bytes.bytes)
    }
}

/// Reads big-endian fields out of an option's data; nil when it runs short.
struct NBDReader {
    private var bytes: ArraySlice<UInt8>

    init(_ bytes: [UInt8]) {
        self.bytes = bytes[...]
    }

    mutating func u16() -> UInt16? { integer(2).map(UInt16.init) }
    mutating func u32() -> UInt32? { integer(4).map(UInt32.init) }

    /// A u32 length, then that many bytes of UTF-8.
    mutating func string() -> String? {
        guard let length = u32(), Int(length) <= bytes.count else { return nil }
        let text = String(decoding: bytes.prefix(Int(length)), as: UTF8.self)
        bytes = bytes.dropFirst(Int(length))
        return text
    }

    mutating func skip(_ count: Int) -> Bool {
        guard count <= bytes.count else { return false }
        bytes = bytes.dropFirst(count)
        return true
    }

    mutating func rest() -> ArraySlice<UInt8> {
        defer { bytes = [] }
        return bytes
    }

    private mutating func integer(_ width: Int) -> UInt64? {
        guard bytes.count >= width else { return nil }
        defer { bytes = bytes.dropFirst(width) }
        return bytes.prefix(width).reduce(0) { $0 << 8 | UInt64($1) }
    }
}
