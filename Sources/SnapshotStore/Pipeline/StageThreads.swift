import Foundation

/// Threads of a pipeline stage, joined by `wait()`.
final class StageThreads: @unchecked Sendable {
    // @unchecked: the group and the semaphore are thread-safe; `count` is written before any thread starts.
    private let done = DispatchSemaphore(value: 0)
    private var count = 0

    /// Starts `body` on `threads` new threads (named for debuggers and `perf`).
    func start(_ name: String, threads: Int = 1, _ body: @escaping @Sendable (Int) -> Void) {
        for number in 0..<threads {
            count += 1
            let label = threads == 1 ? name : "\(name)\(number)"
            let thread = Thread { [done] in
                // Named from inside: Linux names only the calling thread (15 characters at most).
                Thread.current.name = String(label.prefix(15))
                body(number)
                done.signal()
            }
            thread.stackSize = 1 << 20
            thread.start()
        }
    }

    /// Blocks until every started thread has returned.
    func wait() {
        for _ in 0..<count { done.wait() }
        count = 0
    }
}
