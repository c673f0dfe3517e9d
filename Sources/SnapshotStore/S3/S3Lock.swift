import Blocking
import Foundation

/// A store lock kept as an object under `locks/` (S3 has no flock): a writer's lock is shared, garbage
/// collection's exclusive. A lock is refreshed every 30 s while held; one not refreshed for 2 minutes belongs
/// to a dead process and is removed.
final class S3Lock: StoreLock {
    struct Record: Codable {
        var exclusive: Bool
        var host: String
        var pid: Int32
        var refreshedAt: Date
    }

    /// Two minutes, as documented: four missed refreshes (a live holder refreshes every 30 s), which also
    /// leaves room for clock skew between hosts of up to a minute.
    static let staleAfter: TimeInterval = 120
    static let refreshEvery: TimeInterval = 30
    let backend: S3Backend
    let key: String
    private let refresher: LockRefresher

    private init(backend: S3Backend, key: String, refresher: LockRefresher) {
        self.backend = backend
        self.key = key
        self.refresher = refresher
    }

    deinit {
        // Dropped without `release`: stop refreshing, so the lock goes stale instead of living forever.
        refresher.stop(waiting: false)
    }

    /// Whether every refresh so far reached the store.
    var isHeld: Bool { refresher.allSucceeded }

    static func acquire(on backend: S3Backend, exclusive: Bool, timeout: Duration) async throws(StoreError) -> S3Lock {
        let key = "locks/\(UUID().uuidString.lowercased()).json"
        let deadline = ContinuousClock.now + timeout
        while true {
            try await write(key, exclusive: exclusive, on: backend)
            if try await !conflicts(excluding: key, exclusive: exclusive, on: backend) {
                let refresher = LockRefresher(every: refreshEvery) { () -> Bool in
                    (try? backend.putBlocking(key, record(exclusive: exclusive))) != nil
                }
                return S3Lock(backend: backend, key: key, refresher: refresher)
            }
            try await backend.delete(key)
            if ContinuousClock.now >= deadline || Task.isCancelled {
                throw StoreError(
                    .busy,
                    exclusive
                        ? "the store at \(backend.location) is in use by snapshots being written; try again when they finish"
                        : "the store at \(backend.location) is being garbage-collected; try again shortly")
            }
            try? await Task.sleep(for: .milliseconds(Int.random(in: 300...900)))
        }
    }

    private static func write(_ key: String, exclusive: Bool, on backend: S3Backend) async throws(StoreError) {
        try await backend.put(key, record(exclusive: exclusive))
    }

    private static func record(exclusive: Bool) -> Data {
        let record = Record(
            exclusive: exclusive, host: ProcessInfo.processInfo.hostName,
            pid: ProcessInfo.processInfo.processIdentifier, refreshedAt: Date())
        return (try? JSONEncoder.store.encode(record)) ?? Data()
    }

    /// Whether another live lock conflicts; stale ones are cleared on the way.
    private static func conflicts(excluding own: String, exclusive: Bool, on backend: S3Backend)
        async throws(StoreError) -> Bool
    {
        for key in try await backend.list(prefix: "locks/") where key != own {
            // A lock being written, or unreadable, counts as held: better wait than sweep under a writer.
            guard let data = try? await backend.get(key),
                let record = try? JSONDecoder.store.decode(Record.self, from: data)
            else {
                return true
            }
            if Date().timeIntervalSince(record.refreshedAt) > staleAfter {
                try await backend.delete(key)
                continue
            }
            if exclusive || record.exclusive { return true }
        }
        return false
    }

    func release() async {
        // Stopped (and its last write finished) before the record goes, or a late refresh would bring it back.
        let refresher = self.refresher
        await BlockingPool.run { refresher.stop(waiting: true) }
        try? await backend.delete(key)
    }
}

/// Rewrites a lock object every `interval` seconds from a thread of its own until stopped; remembers whether
/// every write reached the store (others may judge a lock that missed one stale: its holder must not publish).
final class LockRefresher: @unchecked Sendable {
    // @unchecked: `stopped` and `failed` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var stopped = false
    private var failed = false
    private let done = DispatchSemaphore(value: 0)

    init(every interval: TimeInterval, _ refresh: @escaping @Sendable () -> Bool) {
        let thread = Thread { [self] in
            condition.lock()
            while !stopped {
                if !condition.wait(until: Date().addingTimeInterval(interval)), !stopped {
                    condition.unlock()
                    let ok = refresh()
                    condition.lock()
                    if !ok { failed = true }
                }
            }
            condition.unlock()
            done.signal()
        }
        thread.name = "snaplab-lock"
        thread.start()
    }

    var allSucceeded: Bool {
        condition.lock()
        defer { condition.unlock() }
        return !failed
    }

    /// Stops the thread; with `waiting`, blocks until it has returned (once: later calls return at once).
    func stop(waiting: Bool) {
        condition.lock()
        let first = !stopped
        stopped = true
        condition.broadcast()
        condition.unlock()
        if waiting && first { done.wait() }
    }
}
