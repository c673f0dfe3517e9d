import CNBD

/// Several reads or writes in flight on one connection (libnbd's `nbd_aio_pread` / `nbd_aio_pwrite`), completed
/// oldest first. Each request's `done` runs on the calling thread once the server has answered it, which is
/// when its buffer may be reused. Use from one thread; blocking.
public final class NBDRequestQueue {
    private struct Pending {
        var cookie: Int64
        var what: String
        var done: () -> Void
    }

    private let connection: NBDConnection
    private let depth: Int
    private var pending: [Pending] = []
    private var head = 0

    /// `depth`: requests the server may be working on at once.
    public init(_ connection: NBDConnection, depth: Int) {
        self.connection = connection
        self.depth = max(1, depth)
    }

    public var inFlight: Int { pending.count - head }

    /// Starts reading `buffer.count` bytes at `offset` into `buffer`, which must stay valid until `done` runs.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, done: @escaping () -> Void)
        throws(NBDError)
    {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return done() }
        try start("nbd_aio_pread(\(offset))", done: done) { handle in
            nbd_aio_pread(handle, base, buffer.count, offset, Self.noCompletion, 0)
        }
    }

    /// Starts writing `buffer` at `offset`; `buffer` must stay valid until `done` runs.
    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64, done: @escaping () -> Void)
        throws(NBDError)
    {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return done() }
        try start("nbd_aio_pwrite(\(offset))", done: done) { handle in
            nbd_aio_pwrite(handle, base, buffer.count, offset, Self.noCompletion, 0)
        }
    }

    private func start(_ what: String, done: @escaping () -> Void, _ issue: (OpaquePointer) -> Int64) throws(NBDError) {
        try makeRoom()
        let cookie = issue(connection.handle)
        if cookie < 0 { throw NBDError.last(what) }
        pending.append(Pending(cookie: cookie, what: what, done: done))
    }

    /// Waits for every request in flight.
    public func drain() throws(NBDError) {
        while inFlight > 0 { try completeOldest() }
    }

    /// Waits for the oldest request in flight, if any, and runs its `done`.
    public func waitForOldest() throws(NBDError) {
        if inFlight > 0 { try completeOldest() }
    }

    /// Waits for the requests in flight without running their `done` (after a failure, so that no buffer is
    /// released while the server may still write into it); errors are ignored.
    public func abandon() {
        while head < pending.count {
            let cookie = UInt64(pending[head].cookie)
            while nbd_aio_command_completed(connection.handle, cookie) == 0 {
                if nbd_poll(connection.handle, -1) < 0 { break }
            }
            head += 1
        }
        pending.removeAll()
        head = 0
    }

    private func makeRoom() throws(NBDError) {
        while inFlight >= depth { try completeOldest() }
    }

    private func completeOldest() throws(NBDError) {
        let oldest = pending[head]
        while true {
            let state = nbd_aio_command_completed(connection.handle, UInt64(oldest.cookie))
            if state == 1 { break }
            if state < 0 {
                let error = NBDError.last(oldest.what)
                advance()
                throw error
            }
            if nbd_poll(connection.handle, -1) < 0 { throw NBDError.last("nbd_poll") }
        }
        advance()
        oldest.done()
    }

    private func advance() {
        head += 1
        if head == pending.count {
            pending.removeAll(keepingCapacity: true)
            head = 0
        }
    }

    /// No callback: completion is polled with `nbd_aio_command_completed`.
    private static var noCompletion: nbd_completion_callback {
        nbd_completion_callback(callback: nil, user_data: nil, free: nil)
    }
}
