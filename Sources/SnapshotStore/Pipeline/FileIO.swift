import Foundation

/// Whole reads and writes on a file descriptor, retried on interruption, with errors that name the file.
enum FileIO {
    /// Fills `buffer` from `offset`; a file that ends early is reported as damaged.
    static func readExactly(
        _ descriptor: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64,
        path: String
    ) throws(StoreError) {
        guard let base = buffer.baseAddress else { return }
        guard offset <= UInt64(Int64.max) - UInt64(buffer.count) else {
            throw StoreError(.corrupt, "\(path) has no byte \(offset); the index naming it is damaged")
        }
        var done = 0
        while done < buffer.count {
            let got = pread(descriptor, base + done, buffer.count - done, off_t(offset) + off_t(done))
            if got < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "cannot read \(path): \(errorText())")
            }
            if got == 0 { throw StoreError(.corrupt, "\(path) ends before byte \(offset + UInt64(buffer.count))") }
            done += got
        }
    }

    /// Writes all of `bytes` at the file's position.
    static func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(StoreError) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        while done < bytes.count {
            let wrote = write(descriptor, base + done, bytes.count - done)
            if wrote < 0 {
                if errno == EINTR { continue }
                let space = errno == ENOSPC ? "; free some space on that disk" : ""
                throw StoreError(.io, "cannot write \(path): \(errorText())\(space)")
            }
            done += wrote
        }
    }

    static func errorText() -> String { String(cString: strerror(errno)) }
}

// `withUnsafe…Bytes` of Data and Array rethrow untyped errors; these keep a `StoreError` a `StoreError`.
extension Array where Element: BitwiseCopyable {
    mutating func withMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(StoreError) -> R)
        throws(StoreError) -> R
    {
        try withUnsafeMutableBytes { bytes in Result { () throws(StoreError) in try body(bytes) } }.get()
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(StoreError) -> R) throws(StoreError) -> R {
        try withUnsafeBytes { bytes in Result { () throws(StoreError) in try body(bytes) } }.get()
    }
}

extension Data {
    mutating func withMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws(StoreError) -> R)
        throws(StoreError) -> R
    {
        try withUnsafeMutableBytes { bytes in Result { () throws(StoreError) in try body(bytes) } }.get()
    }

    func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws(StoreError) -> R) throws(StoreError) -> R {
        try withUnsafeBytes { bytes in Result { () throws(StoreError) in try body(bytes) } }.get()
    }
}
