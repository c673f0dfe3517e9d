import CLibvirt
import Foundation

/// A failed libvirt call: libvirt's own error code, domain and message, plus the call that failed.
public struct LibvirtError: Error, Sendable, CustomStringConvertible {
    /// `virErrorNumber` (e.g. 42 = VIR_ERR_NO_DOMAIN).
    public let code: Int32
    /// `virErrorDomain`: which part of libvirt raised it.
    public let domain: Int32
    public let message: String
    /// The API call that failed, e.g. `virDomainCreate`.
    public let operation: String

    public init(code: Int32, domain: Int32, message: String, operation: String) {
        self.code = code
        self.domain = domain
        self.message = message
        self.operation = operation
    }

    /// libvirt's per-thread last error; must be read on the thread of the failing call, right after it.
    /// `operation` is evaluated only after the error is copied: building it may call libvirt (a domain's
    /// name), and every libvirt API call clears the last error on entry.
    static func last(_ operation: @autoclosure () -> String) -> LibvirtError {
        guard let error = virGetLastError() else {
            let name = operation()
            return LibvirtError(
                code: -1, domain: 0, message: "\(name) failed without an error report",
                operation: name)
        }
        let code = error.pointee.code
        let domain = error.pointee.domain
        let message = error.pointee.message.map { String(cString: $0) } ?? "unknown error"
        virResetLastError()
        return LibvirtError(code: code, domain: domain, message: message, operation: operation())
    }

    public var isNotFound: Bool {
        [
            VIR_ERR_NO_DOMAIN, VIR_ERR_NO_STORAGE_POOL, VIR_ERR_NO_STORAGE_VOL, VIR_ERR_NO_DOMAIN_CHECKPOINT,
            VIR_ERR_NO_DOMAIN_SNAPSHOT,
        ].map { Int32($0.rawValue) }.contains(code)
    }

    public var isAgentUnavailable: Bool {
        [VIR_ERR_AGENT_UNRESPONSIVE, VIR_ERR_AGENT_UNSYNCED].map { Int32($0.rawValue) }.contains(code)
            || (code == Int32(VIR_ERR_ARGUMENT_UNSUPPORTED.rawValue) && message.contains("agent"))
    }

    public var description: String { "\(operation): \(message) (libvirt error \(code))" }
}

/// Turns libvirt's "-1 means failure" convention into a thrown `LibvirtError`.
@discardableResult
func check(_ result: Int32, _ operation: @autoclosure () -> String) throws(LibvirtError) -> Int32 {
    if result < 0 { throw LibvirtError.last(operation()) }
    return result
}

/// Turns libvirt's "NULL means failure" convention into a thrown `LibvirtError`.
func check<T>(_ result: T?, _ operation: @autoclosure () -> String) throws(LibvirtError) -> T {
    guard let result else { throw LibvirtError.last(operation()) }
    return result
}

/// Takes ownership of a string libvirt allocated for the caller.
func takeString(_ pointer: UnsafeMutablePointer<CChar>?, _ operation: @autoclosure () -> String)
    throws(LibvirtError) -> String
{
    let pointer = try check(pointer, operation())
    defer { free(pointer) }
    return String(cString: pointer)
}
