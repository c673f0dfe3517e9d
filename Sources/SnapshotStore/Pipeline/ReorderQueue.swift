import Foundation

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
