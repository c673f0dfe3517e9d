import Dispatch
import Foundation
import NBDServer
import SnapshotStore

/// The host's one export service: every completed snapshot of the lab, read-only over NBD on one unix socket
/// (`STATE_DIR/exports/nbd.sock`, export name = snapshot id), each opened from the store when a client first
/// asks for it and closed when its last connection ends. A lock file keeps a second service of the same lab
/// from starting. Sources are opened and closed by one task that `run` owns (connection threads ask it and
/// wait), so nothing outlives the service. Beside the exports it runs the lab's lazy hydration (see
/// `LazyHydrator`): the process serving lazy volumes is the one that completes them.
public final class ExportService: @unchecked Sendable {
    public static func socketPath(_ paths: LabPaths) -> String {
        paths.exports.appendingPathComponent("nbd.sock").path
    }

    public static func uri(snapshot: String, paths: LabPaths) -> String {
        "nbd+unix:///\(snapshot)?socket=\(socketPath(paths))"
    }

    let lab: Lab
    private let hydrator: LazyHydrator
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

    /// Takes the lab's export lock and listens, the socket given to the group qemu runs as on the local host;
    /// fails when another service of this lab runs.
    public static func start(lab: Lab) async throws(SnaplabError) -> ExportService {
        var qemu: (uid: UInt32, gid: UInt32)?
        if let local = try? await lab.hosts.host(nil), let hypervisor = try? await lab.hosts.hypervisor(for: local) {
            qemu = try? await hypervisor.qemuIdentity()
        }
        return try ExportService(lab: lab, socketGroup: qemu?.gid)
    }

    /// Whether a service of this lab holds the lock (in this process or another).
    public static func isRunning(_ paths: LabPaths) -> Bool {
        let descriptor = open(lockPath(paths), O_RDWR | O_CLOEXEC)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else { return true }
        flock(descriptor, LOCK_UN)
        return false
    }

    /// The process id the running service wrote into its lock file.
    public static func runningProcess(_ paths: LabPaths) -> pid_t? {
        guard isRunning(paths), let text = try? String(contentsOfFile: lockPath(paths), encoding: .utf8) else {
            return nil
        }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    static func lockPath(_ paths: LabPaths) -> String {
        paths.exports.appendingPathComponent("service.lock").path
    }

    public init(lab: Lab, socketGroup: UInt32? = nil) throws(SnaplabError) {
        self.lab = lab
        hydrator = LazyHydrator(lab: lab)
        (requests, requestsContinuation) = AsyncStream.makeStream(of: Request.self)
        try Directories.create(lab.paths.exports)
        let lockPath = Self.lockPath(lab.paths)
        lockDescriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard lockDescriptor >= 0 else {
            throw SnaplabError(.io, "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        guard flock(lockDescriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(lockDescriptor)
            throw SnaplabError(
                .conflict, "an export service already runs for this lab (it holds \(lockPath)); use that one")
        }
        let pid = Array("\(getpid())\n".utf8)
        _ = ftruncate(lockDescriptor, 0)
        _ = pwrite(lockDescriptor, pid, pid.count, 0)
        do {
            server = try NBDServer(
                socketPath: Self.socketPath(lab.paths),
                hooks: NBDServer.Hooks(
                    // Weak: a connection may outlive the service (the process is about to exit then).
                    resolve: { [weak self] name in self?.source(name) },
                    opened: { [weak self] name in self?.opened(name) },
                    closed: { [weak self] name in self?.closed(name) }),
                group: socketGroup)
        } catch {
            close(lockDescriptor)
            throw SnaplabError(.io, "the export service cannot listen: \(error)")
        }
    }

    /// Serves (and completes lazy volumes) until `stop()` or cancellation or, with `idleExit`, until no connection has been
    /// open for that long and no lazy volume is left; also ends when the lab's state directory is removed.
    public func run(idleExit: Duration?) async {
        server?.start()
        await withDiscardingTaskGroup { group in
            group.addTask { [requests] in
                for await request in requests { await self.handle(request) }
            }
            group.addTask { await self.hydrator.run() }
            while !lock.withLock({ stopRequested }) && !Task.isCancelled {
                if let idleExit, let server, server.idleFor >= idleExit, hydrator.isIdle { break }
                if !FileManager.default.fileExists(atPath: lab.paths.catalog.path) { break }
                try? await Task.sleep(for: .milliseconds(200))
            }
            hydrator.stop()
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
