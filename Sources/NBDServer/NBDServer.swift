import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A read-only NBD server on a unix socket: each connection on a thread of its own (blocking I/O never touches
/// the Swift concurrency pool), serving the exports registered by name.
public final class NBDServer: @unchecked Sendable {
    public let socketPath: String
    private let listener: Int32
    private let lock = NSLock()
    private var exports: [String: any BlockSource] = [:]
    private var connections = 0
    private var stopped = false
    private var idleSince = ContinuousClock.now
    private let hooks: Hooks

    /// How a server finds exports it was not given with `add`, and learns when a connection uses one and ends.
    /// All are called on connection threads and may block.
    public struct Hooks: Sendable {
        /// The source for a name (called during negotiation, maybe more than once per connection); nil: unknown.
        public var resolve: @Sendable (String) -> (any BlockSource)?
        /// A connection started transmission on this export.
        public var opened: @Sendable (String) -> Void
        /// That connection ended.
        public var closed: @Sendable (String) -> Void

        public init(
            resolve: @escaping @Sendable (String) -> (any BlockSource)?,
            opened: @escaping @Sendable (String) -> Void, closed: @escaping @Sendable (String) -> Void
        ) {
            self.resolve = resolve
            self.opened = opened
            self.closed = closed
        }

        static let none = Hooks(resolve: { _ in nil }, opened: { _ in }, closed: { _ in })
    }

    /// Binds and listens (mode 0660: the socket is for this host's qemu, not for every user; `group` names the
    /// group qemu runs as, given the socket before anyone can connect).
    public init(socketPath: String, hooks: Hooks? = nil, group: UInt32? = nil) throws {
        self.socketPath = socketPath
        self.hooks = hooks ?? .none
        unlink(socketPath)
        listener = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard listener >= 0 else {
            throw BlockSourceError("cannot create a unix socket: \(String(cString: strerror(errno)))")
        }
        guard let address = UnixSocketAddress(socketPath) else {
            close(listener)
            throw BlockSourceError("the socket path \(socketPath) is too long for a unix socket")
        }
        let bound = address.withSocketAddress { bind(listener, $0, $1) }
        guard bound == 0, chmod(socketPath, 0o660) == 0, group.map({ chown(socketPath, uid_t.max, $0) }) ?? 0 == 0,
            listen(listener, 16) == 0
        else {
            let reason = String(cString: strerror(errno))
            close(listener)
            throw BlockSourceError("cannot listen on \(socketPath): \(reason)")
        }
    }

    public func add(_ name: String, _ source: any BlockSource) {
        lock.withLock { exports[name] = source }
    }

    public func remove(_ name: String) {
        lock.withLock { _ = exports.removeValue(forKey: name) }
    }

    public var activeConnections: Int { lock.withLock { connections } }

    /// How long no connection has been open (zero while one is).
    public var idleFor: Duration {
        lock.withLock { connections > 0 ? .zero : ContinuousClock.now - idleSince }
    }

    /// Accepts connections on a thread of its own until `stop()`.
    public func start() {
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "nbd-accept"
        thread.start()
    }

    /// Stops accepting and removes the socket; open connections end when their clients leave.
    public func stop() {
        lock.withLock { stopped = true }
        shutdown(listener, Int32(SHUT_RDWR))
        unlink(socketPath)
    }

    private func acceptLoop() {
        while true {
            let descriptor = accept(listener, nil, nil)
            if descriptor >= 0 { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
            if descriptor < 0 {
                if errno == EINTR || errno == ECONNABORTED { continue }
                break
            }
            if lock.withLock({ stopped }) {
                close(descriptor)
                break
            }
            lock.withLock { connections += 1 }
            let thread = Thread { [self] in
                serve(NBDSocket(descriptor: descriptor))
                lock.withLock {
                    connections -= 1
                    if connections == 0 { idleSince = .now }
                }
            }
            thread.name = "nbd-connection"
            thread.start()
        }
        close(listener)
    }

    private func serve(_ socket: NBDSocket) {
        var negotiation = NBDNegotiation(
            socket: socket, lookup: { [self] name in lock.withLock { exports[name] } ?? hooks.resolve(name) },
            names: { [self] in lock.withLock { exports.keys.sorted() } })
        do {
            guard let (name, source) = try negotiation.run() else { return }
            hooks.opened(name)
            defer { hooks.closed(name) }
            try NBDTransmission(
                socket: socket, source: source, structuredReplies: negotiation.structuredReplies,
                baseAllocation: negotiation.baseAllocation
            ).run()
        } catch {
            // The client went away or broke the protocol: the connection ends.
        }
    }
}
