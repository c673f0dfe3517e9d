import Foundation

/// A bounded first-in first-out queue between threads of the data pipeline: `put` waits while it is full,
/// `take` while it is empty. `close()` wakes every waiter: later puts are refused, takes drain what is left and
/// then return nil.
final class BlockingQueue<Element>: @unchecked Sendable {
    // @unchecked: every access to the stored state happens with `condition` locked.
    private let condition = NSCondition()
    private var items: [Element] = []
    private var head = 0
    private let capacity: Int
    private var closed = false

    init(capacity: Int) {
        self.capacity = max(1, capacity)
    }

    /// Adds an element, waiting for room; false if the queue was closed.
    @discardableResult
    func put(_ element: Element) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        while !closed && items.count - head >= capacity { condition.wait() }
        if closed { return false }
        items.append(element)
        condition.broadcast()
        return true
    }

    /// The oldest element, waiting for one; nil once the queue is closed and empty.
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while !closed && items.count == head { condition.wait() }
        guard items.count > head else { return nil }
        let element = items[head]
        head += 1
        if head == items.count {
            items.removeAll(keepingCapacity: true)
            head = 0
        } else if head >= 64 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        condition.broadcast()
        return element
    }

    func close() {
        condition.lock()
        closed = true
        condition.broadcast()
        condition.unlock()
    }
}

/// Hands results produced out of order (by several workers) to one consumer in sequence order, holding at most
/// as many as there are buffers in flight.
final class ReorderQueue<Element>: @unchecked Sendable {
    // @unchecked: every access to the stored state happens with `condition` locked.
    private let condition = NSCondition()
    private var waiting: [Int: Element] = [:]
    private var next = 0
    private var end: Int?
    private var closed = false

    /// No sequence number from `total` on will come: `take` returns nil once all before it are taken.
    func end(at total: Int) {
        condition.lock()
        end = total
        condition.broadcast()
        condition.unlock()
    }

    func put(_ sequence: Int, _ element: Element) {
        condition.lock()
        waiting[sequence] = element
        condition.broadcast()
        condition.unlock()
    }

    /// The element with the next sequence number, waiting for it; nil once closed (what is left is dropped).
    func take() -> Element? {
        condition.lock()
        defer { condition.unlock() }
        while !closed && waiting[next] == nil && next != end { condition.wait() }
        guard !closed, let element = waiting.removeValue(forKey: next) else { return nil }
        next += 1
        return element
    }

    /// Elements never taken, so their owners can release them.
    func close() -> [Element] {
        condition.lock()
        closed = true
        let left = Array(waiting.values)
        waiting.removeAll()
        condition.broadcast()
        condition.unlock()
        return left
    }
}

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
        actions.forEach { $0() }
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
