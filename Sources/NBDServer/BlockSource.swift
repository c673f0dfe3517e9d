/// What an export serves: a read-only block device of `size` bytes. Called from the server's connection
/// threads (blocking), possibly several at once.
public protocol BlockSource: Sendable {
    var size: UInt64 { get }
    /// Fills `buffer` with the bytes at `offset`.
    func read(at offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws
    /// Which parts of `offset..<offset+length` hold data and which are holes (read as zeros), in order,
    /// covering at least the first byte.
    func extents(at offset: UInt64, length: UInt64) throws -> [BlockExtent]
}

public struct BlockExtent: Sendable, Equatable {
    public var length: UInt64
    public var hole: Bool

    public init(length: UInt64, hole: Bool) {
        self.length = length
        self.hole = hole
    }
}

/// An error a source raises for one request: the client gets EIO with this message, the connection stays.
public struct BlockSourceError: Error, Sendable {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }
}
