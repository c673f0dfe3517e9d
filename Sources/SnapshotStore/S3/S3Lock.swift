import Foundation
import Synchronization

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

    /// Generous against clock skew between hosts: a live holder refreshes every 30 s.
    static let staleAfter: TimeInterval = 600
    let backend: S3Backend
    let key: String
    private let refresher: Task<Void, Never>
    private let state: State

    /// Whether every refresh so far reached the store.
    final class State: Sendable {
        let held = Mutex(true)
    }

    private init(backend: S3Backend, key: String, refresher: Task<Void, Never>, state: State) {
        self.backend = backend
        self.key = key
        self.refresher = refresher
        self.state = state
    }

    var isHeld: Bool { state.held.withLock { $0 } }

    static func acquire(on backend: S3Backend, exclusive: Bool, timeout: Duration) async throws(StoreError) -> S3Lock {
        let key = "locks/\(UUID().uuidString.lowercased()).json"
        let deadline = ContinuousClock.now + timeout
        while true {
            try await write(key, exclusive: exclusive, on: backend)
            if try await !conflicts(excluding: key, exclusive: exclusive, on: backend) {
                let state = State()
                let refresher = Task {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: .seconds(30))
                        if Task.isCancelled { break }
                        do throws(StoreError) {
                            try await write(key, exclusive: exclusive, on: backend)
                        } catch {
                            // Others may now judge it stale: the holder must not publish.
                            state.held.withLock { $0 = false }
                        }
                    }
                }
                return S3Lock(backend: backend, key: key, refresher: refresher, state: state)
            }
            try await backend.delete(key)
            if ContinuousClock.now >= deadline || Task.isCancelled {
                throw StoreError(.busy, exclusive
                    ? "the store at \(backend.location) is in use by snapshots being written; try again when they finish"
                    : "the store at \(backend.location) is being garbage-collected; try again shortly")
            }
            try? await Task.sleep(for: .milliseconds(Int.random(in: 300...900)))
        }
    }

    private static func write(_ key: String, exclusive: Bool, on backend: S3Backend) async throws(StoreError) {
        let record = Record(exclusive: exclusive, host: ProcessInfo.processInfo.hostName,
                            pid: ProcessInfo.processInfo.processIdentifier, refreshedAt: Date())
        guard let data = try? JSONEncoder.store.encode(record) else { throw StoreError(.io, "cannot encode a lock") }
        try await backend.put(key, data)
    }

    /// Whether another live lock conflicts; stale ones are cleared on the way.
    private static func conflicts(excluding own: String, exclusive: Bool, on backend: S3Backend) async throws(StoreError) -> Bool {
        for key in try await backend.list(prefix: "locks/") where key != own {
            // A lock being written, or unreadable, counts as held: better wait than sweep under a writer.
            guard let data = try? await backend.get(key), let record = try? JSONDecoder.store.decode(Record.self, from: data) else {
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
        refresher.cancel()
        try? await backend.delete(key)
    }
}
