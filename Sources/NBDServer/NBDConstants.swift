/// Numbers from the NBD protocol (https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md): the
/// server side of fixed newstyle negotiation and of the transmission phase, read-only.
enum NBD {
    static let initMagic: UInt64 = 0x4e42_444d_4147_4943  // "NBDMAGIC"
    static let optionMagic: UInt64 = 0x4948_4156_454f_5054  // "IHAVEOPT"
    static let replyMagic: UInt64 = 0x0003_e889_0455_65a9
    static let requestMagic: UInt32 = 0x2560_9513
    static let simpleReplyMagic: UInt32 = 0x6744_6698
    static let structuredReplyMagic: UInt32 = 0x668e_33ef

    enum HandshakeFlag {
        static let fixedNewstyle: UInt16 = 1 << 0
        static let noZeroes: UInt16 = 1 << 1
    }

    enum ClientFlag {
        static let fixedNewstyle: UInt32 = 1 << 0
        static let noZeroes: UInt32 = 1 << 1
    }

    enum TransmissionFlag {
        static let hasFlags: UInt16 = 1 << 0
        static let readOnly: UInt16 = 1 << 1
        static let sendDF: UInt16 = 1 << 7
        static let canMultiConn: UInt16 = 1 << 8
    }

    enum Option: UInt32 {
        case exportName = 1
        case abort = 2
        case list = 3
        case startTLS = 5
        case info = 6
        case go = 7
        case structuredReply = 8
        case listMetaContext = 9
        case setMetaContext = 10
    }

    enum Reply: UInt32 {
        case ack = 1
        case server = 2
        case info = 3
        case metaContext = 4
        case errUnsupported = 0x8000_0001
        case errPolicy = 0x8000_0002
        case errInvalid = 0x8000_0003
        case errUnknown = 0x8000_0006
    }

    enum Info {
        static let export: UInt16 = 0
        static let blockSize: UInt16 = 3
    }

    enum Command: UInt16 {
        case read = 0
        case write = 1
        case disconnect = 2
        case flush = 3
        case trim = 4
        case cache = 5
        case writeZeroes = 6
        case blockStatus = 7
    }

    enum CommandFlag {
        static let dontFragment: UInt16 = 1 << 1
        static let requestOne: UInt16 = 1 << 3
    }

    enum ReplyType {
        static let none: UInt16 = 0
        static let offsetData: UInt16 = 1
        static let offsetHole: UInt16 = 2
        static let blockStatus: UInt16 = 5
        static let error: UInt16 = 0x8001
    }

    static let replyFlagDone: UInt16 = 1

    enum Errno {
        static let eperm: UInt32 = 1
        static let eio: UInt32 = 5
        static let einval: UInt32 = 22
        static let eoverflow: UInt32 = 75
        static let enotsup: UInt32 = 95
    }

    enum State {
        static let hole: UInt32 = 1
        static let zero: UInt32 = 2
    }

    static let baseAllocation = "base:allocation"
    static let baseAllocationId: UInt32 = 1
    /// The largest read or block-status request served (what qemu and libnbd ask for stays well below).
    static let maxRequest: UInt32 = 32 << 20
    static let maxOptionLength: UInt32 = 1 << 16
    /// The most one block-status answer describes (a client asking about more gets a prefix).
    static let maxBlockStatus: UInt64 = 1 << 30
}
