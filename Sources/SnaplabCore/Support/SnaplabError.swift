import SnapshotStore

/// The one error type the controller reports. `code` is stable (scripts and the API map it); `message` says
/// what went wrong and what to do; `cause` keeps the underlying error (libvirt's, SQLite's, the system's).
public struct SnaplabError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Codable, CaseIterable {
        case notFound
        case invalidState
        case invalidArgument
        case conflict
        case hypervisor
        case guest
        case store
        case io
        case timeout
        case `internal`
    }

    /// What made the error, for front ends that name it (EC2's `InvalidSnapshot.InUse`…).
    public enum Detail: String, Sendable {
        case malformedId
        case inUse
    }

    public let code: Code
    public let message: String
    public let cause: (any Error)?
    /// The resource id the error is about, when there is one.
    public var subject: String?
    public var detail: Detail?

    public init(
        _ code: Code, _ message: String, cause: (any Error)? = nil, subject: String? = nil,
        detail: Detail? = nil
    ) {
        self.code = code
        self.message = message
        self.cause = cause
        self.subject = subject
        self.detail = detail
    }

    public var description: String {
        guard let cause else { return message }
        return "\(message)\n  cause: \(cause)"
    }
}

extension SnaplabError {
    static func notFound(_ kind: String, _ id: String, hint: String) -> SnaplabError {
        SnaplabError(.notFound, "no \(kind) '\(id)'; \(hint)", subject: id)
    }
}

extension SnaplabError {
    /// A snapshot store failure as the controller reports it.
    public init(store error: StoreError) {
        let code: Code =
            switch error.kind {
            case .notFound: .notFound
            case .busy: .conflict
            case .io: .io
            case .corrupt, .unsupported: .store
            case .keyRequired: .invalidArgument
            }
        self.init(code, error.message, cause: error)
    }
}

/// Runs store calls, reporting their failures as `SnaplabError`s.
@discardableResult
func withStore<T>(_ body: () async throws(StoreError) -> T) async throws(SnaplabError) -> T {
    do {
        return try await body()
    } catch {
        throw SnaplabError(store: error)
    }
}
