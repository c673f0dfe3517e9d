import Blocking
import Libvirt

/// One libvirt host as the controller sees it: every call runs on the blocking pool and every libvirt error
/// comes back as a `SnaplabError` that carries it.
public final class Hypervisor: Sendable {
    public let uri: String
    let connection: Connection

    private init(uri: String, connection: Connection) {
        self.uri = uri
        self.connection = connection
    }

    public static func connect(uri: String) async throws(SnaplabError) -> Hypervisor {
        do {
            let connection = try await BlockingPool.run { try Connection(uri: uri) }
            return Hypervisor(uri: uri, connection: connection)
        } catch let error as LibvirtError {
            throw SnaplabError(.hypervisor, Self.connectAdvice(uri: uri, error: error), cause: error)
        } catch {
            throw SnaplabError(.internal, "cannot connect to libvirt at \(uri)", cause: error)
        }
    }

    static func connectAdvice(uri: String, error: LibvirtError) -> String {
        var message = "cannot connect to libvirt at \(uri): \(error.message)."
        if uri.hasPrefix("qemu:///") || uri.hasPrefix("qemu+unix:///") {
            message += " Is libvirtd running? Start the daemons with `virtlogd -d && libvirtd -d` as root"
            message += " (or `make setup`), then try again."
        } else {
            message += " Check that the host is reachable and its libvirtd accepts this URI."
        }
        return message
    }

    /// Runs `body` against the connection on the blocking pool. `what` names the action for error messages.
    func call<T: Sendable>(_ what: String, _ body: @escaping @Sendable (Connection) throws -> T)
        async throws(SnaplabError) -> T
    {
        let connection = self.connection
        do {
            return try await BlockingPool.run { try body(connection) }
        } catch let error as SnaplabError {
            throw error
        } catch let error as LibvirtError {
            let code: SnaplabError.Code = error.isNotFound ? .notFound : .hypervisor
            throw SnaplabError(code, "\(what) failed on \(uri): \(error.message)", cause: error)
        } catch {
            throw SnaplabError(.internal, "\(what) failed on \(uri)", cause: error)
        }
    }

    public func versions() async throws(SnaplabError) -> (libvirt: String, hypervisor: String) {
        try await call("reading versions") { connection in
            (try connection.libraryVersion().description, try connection.hypervisorVersion().description)
        }
    }

    public func capabilities() async throws(SnaplabError) -> String {
        try await call("reading capabilities") { try $0.capabilities() }
    }

    /// Lifecycle events of every domain on the host.
    public func lifecycleEvents() async throws(SnaplabError) -> AsyncStream<DomainEvent> {
        try await call("subscribing to domain events") { try $0.lifecycleEvents() }
    }
}
