import Foundation

/// The first failure of a pipeline; once set, stages stop and the failure is what callers see.
final class PipelineFailure: @unchecked Sendable {
    // @unchecked: `error` is only touched with `lock` held.
    private let lock = NSLock()
    private var error: StoreError?
    private var onFailure: [() -> Void] = []

    /// Records `error` unless an earlier one is there, and runs the stop actions once.
    func fail(_ error: StoreError) {
        lock.lock()
        let first = self.error == nil
        if first { self.error = error }
        let actions = first ? onFailure : []
        lock.unlock()
        for action in actions { action() }
    }

    /// What to do when a stage fails (close the queues, so that every waiting stage wakes up).
    func whenFailed(_ action: @escaping () -> Void) {
        lock.lock()
        onFailure.append(action)
        lock.unlock()
    }

    var current: StoreError? {
        lock.lock()
        defer { lock.unlock() }
        return error
    }

    func check() throws(StoreError) {
        if let current { throw current }
    }
}
