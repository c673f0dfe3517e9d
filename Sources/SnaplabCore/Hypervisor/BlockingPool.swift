import NIOPosix

/// Where blocking C calls (libvirt, file I/O that can stall) run, so they never occupy a thread of Swift's
/// cooperative pool.
enum BlockingPool {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 8)
        pool.start()
        return pool
    }()

    static func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await pool.runIfActive(body)
    }
}
