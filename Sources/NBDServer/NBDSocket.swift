import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A connected socket read and written whole, big-endian, blocking (on the connection's own thread).
final class NBDSocket {
    let descriptor: Int32

    init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    deinit {
        close(descriptor)
    }

    struct Closed: Error {}

    func readExactly(_ count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let got = bytes.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress! + done, count - done, 0) }
            if got < 0, errno == EINTR { continue }
            guard got > 0 else { throw Closed() }
            done += got
        }
        return bytes
    }

    func write(_ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write($0) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws {
        var done = 0
        while done < bytes.count {
            let sent = send(descriptor, bytes.baseAddress! + done, bytes.count - done, Int32(MSG_NOSIGNAL))
            if sent < 0, errno == EINTR { continue }
            guard sent > 0 else { throw Closed() }
            done += sent
        }
    }

    func u16() throws -> UInt16 { UInt16(try integer(2)) }
    func u32() throws -> UInt32 { UInt32(try integer(4)) }
    func u64() throws -> UInt64 { try integer(8) }

    private func integer(_ width: Int) throws -> UInt64 {
        try readExactly(width).reduce(0) { $0 << 8 | UInt64($1) }
    }
}

/// Big-endian encoding into a byte array.
struct NBDBytes {
    var bytes: [UInt8] = []

    mutating func u16(_ value: UInt16) { append(UInt64(value), 2) }
    mutating func u32(_ value: UInt32) { append(UInt64(value), 4) }
    mutating func u64(_ value: UInt64) { append(value, 8) }
    mutating func text(_ value: String) { bytes += Array(value.utf8) }

    private mutating func append(_ value: UInt64, _ width: Int) {
        for shift in stride(from: (width - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }
}
