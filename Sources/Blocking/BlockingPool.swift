import NIOPosix

/// The process's one pool for blocking work (libvirt calls, file-system calls that can stall, long copy loops,
/// draining a child's pipes), so none of it ever occupies a thread of Swift's cooperative pool. Sized for the
/// long copies a server runs side by side plus the short calls that must still get through meanwhile.
public enum BlockingPool {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 16)
        pool.start()
        return pool
    }()

    /// Runs `body` on the pool and returns its result (or its typed error) to the awaiting task.
    public static func run<T: Sendable, Failure: Error>(
        _ body: @escaping @Sendable () throws(Failure) -> T
    ) async throws(Failure) -> T {
        let result: Result<T, Failure> = await withCheckedContinuation { continuation in
            pool.submit { _ in
                continuation.resume(returning: Result { () throws(Failure) -> T in try body() })
            }
        }
        return try result.get()
    }
}
