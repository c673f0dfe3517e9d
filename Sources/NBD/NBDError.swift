import CNBD

/// A failed libnbd call, with libnbd's message and errno.
public struct NBDError: Error, Sendable, CustomStringConvertible {
    public let operation: String
    public let message: String
    public let errno: Int32

    public init(operation: String, message: String, errno: Int32) {
        self.operation = operation
        self.message = message
        self.errno = errno
    }

    /// libnbd's per-thread last error; read right after the failing call, on its thread.
    static func last(_ operation: String) -> NBDError {
        let message = nbd_get_error().map { String(cString: $0) } ?? "unknown libnbd error"
        return NBDError(operation: operation, message: message, errno: nbd_get_errno())
    }

    public var description: String { "\(operation): \(message)" }
}
