import Dispatch
import Foundation
import NBDServer
import SnapshotStore

/// The host's one export service: every completed snapshot of the lab, read-only over NBD on one unix socket
/// (`STATE_DIR/exports/nbd.sock`, export name = snapshot id), each opened from the store when a client first
/// asks for it and closed when its last connection ends. A lock file keeps a second service of the same lab
/// from starting. Sources are opened and closed by one task that `run` owns (connection threads ask it and
/// wait), so nothing outlives the service.
public final class ExportService: @unchecked Sendable {
    public static func socketPath(_ paths: LabPaths) -> String {
        paths.exports.appendingPathComponent("nbd.sock").path
    }

    public static func uri(snapshot: String, paths: LabPaths) -> String {
        "nbd+unix:///\(snapshot)?socket=\(socketPath(paths))"
    }

    let lab: Lab
    private var server: NBDServer?
    private let lockDescriptor: Int32
    private let lock = NSLock()
    private var sources: [String: SnapshotBlockSource] = [:]
    private var users: [String: Int] = [:]
    private var stopRequested = false
    private let requests: AsyncStream<Request>
    private let requestsContinuation: AsyncStream<Request>.Continuation

    private enum Request: @unchecked Sendable {
        /// Open `name` (unless open already), put the result in `reply` and signal `done`.
        case open(String, OpenedSource, DispatchSemaphore)
        /// Close `name`'s source if no connection uses it (any more).
        case close(String)
    }

    /// Takes the lab's export lock and listens; fails when another service of this lab runs.
    public init(lab: Lab) throws(SnaplabError) {
        self.lab = lab
        (requests, requestsContinuation) = AsyncStream.makeStream(of: Request.self)
        try Directories.create(lab.paths.exports)
        let lockPath = lab.paths.exports.appendingPathComponent("service.lock").path
        lockDescriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else {
            throw SnaplabError(.io, "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw SnaplabError(
                .conflict, "an export service already runs for this lab (it holds \(lockPath)); use that one")
        }
        do {
            server = try NBDServer(
                socketPath: Self.socketPath(lab.paths),
                hooks: NBDServer.Hooks(
                    // Weak: a connection may outlive the service (the process is about to exit then).
                    resolve: { [weak self] name in self?.source(name) },
                    opened: { [weak self] name in self?.opened(name) },
                    closed: { [weak self] name in self?.closed(name) }))
        } catch {
            close(lockDescriptor)
            throw SnaplabError(.io, "the export service cannot listen: \(error)")
        }
    }

    /// Serves until `stop()` or, with `idleExit`, until no connection has been open for that long.
    public func run(idleExit: Duration?) async {
        server?.start()
        await withDiscardingTaskGroup { group in
            group.addTask { [requests] in
                for await request in requests { await self.handle(request) }
            }
            while !lock.withLock({ stopRequested }) {
                if let idleExit, let server, server.idleFor >= idleExit { break }
                try? await Task.sleep(for: .milliseconds(200))
            }
            server?.stop()
            // Requests already made are still answered; later ones get nothing.
            requestsContinuation.finish()
        }
        let open = lock.withLock { () -> [SnapshotBlockSource] in
            defer { sources.removeAll() }
            return Array(sources.values)
        }
        for source in open { await source.close() }
        close(lockDescriptor)
    }

    public func stop() {
        lock.withLock { stopRequested = true }
    }

    /// The source for an export name: a completed snapshot of this lab, opened once (called on a connection
    /// thread, which waits while the service's task opens it).
    private func source(_ name: String) -> (any BlockSource)? {
        if let open = lock.withLock({ sources[name] }) { return open }
        guard (try? ResourceID.validate(name, as: .snapshot)) != nil else { return nil }
        let reply = OpenedSource()
        let done = DispatchSemaphore(value: 0)
        guard case .enqueued = requestsContinuation.yield(.open(name, reply, done)) else { return nil }
        done.wait()
        return reply.value
    }

    private func opened(_ name: String) {
        lock.withLock { users[name, default: 0] += 1 }
    }

    /// A connection ended: the last one of an export closes its source (the store's shared lock goes with it).
    private func closed(_ name: String) {
        let unused = lock.withLock { () -> Bool in
            users[name, default: 1] -= 1
            return users[name] == 0
        }
        // Once the service is ending, `run` closes whatever is still open.
        if unused { requestsContinuation.yield(.close(name)) }
    }

    /// One request at a time, so a snapshot is never opened twice.
    private func handle(_ request: Request) async {
        switch request {
        case .open(let name, let reply, let done):
            if let open = lock.withLock({ sources[name] }) {
                reply.set(open)
            } else if let source = try? await lab.snapshots.openBlockSource(name) {
                lock.withLock { sources[name] = source }
                reply.set(source)
            }
            done.signal()
        case .close(let name):
            let unused = lock.withLock { () -> SnapshotBlockSource? in
                guard users[name] == 0 else { return nil }
                users.removeValue(forKey: name)
                return sources.removeValue(forKey: name)
            }
            await unused?.close()
        }
    }
}

private final class OpenedSource: @unchecked Sendable {
    private let lock = NSLock()
    private var source: SnapshotBlockSource?

    func set(_ source: SnapshotBlockSource?) { lock.withLock { self.source = source } }
    var value: SnapshotBlockSource? { lock.withLock { source } }
}
