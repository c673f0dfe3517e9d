/// A snapshot store failure. `kind` is stable; `message` says what to do.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        /// No such object (snapshot, chunk, artifact).
        case notFound
        /// Stored bytes do not match their hash, or a file does not parse.
        case corrupt
        /// The backend could not read or write (disk full, permissions, network).
        case io
        /// Another process holds the store (e.g. garbage collection while snapshots are written).
        case busy
        /// The store's format is not one this version understands.
        case unsupported
        /// An encrypted store without its key, or with a key that opens none of its wrappings.
        case keyRequired
    }

    public let kind: Kind
    public let message: String
    public let cause: (any Error)?

    public init(_ kind: Kind, _ message: String, cause: (any Error)? = nil) {
        self.kind = kind
        self.message = message
        self.cause = cause
    }

    public var description: String {
        cause.map { "\(message) (\($0))" } ?? message
    }
}
