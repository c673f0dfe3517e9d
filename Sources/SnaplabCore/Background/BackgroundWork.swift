import Logging
import ServiceLifecycle
import Synchronization

/// The one owner of the lab's background work: what a call starts and returns before it ends (snapshot copies,
/// stops asked for without waiting, images completing after their snapshots). Every job runs as a child of one
/// task group, so none is lost track of, each failure is logged, and shutting down waits for them:
/// `serve`, `daemon` and the detached snapshot worker run this as a swift-service-lifecycle service, which on
/// SIGTERM stops taking work and drains what runs (a copy finishes, or is marked `error` with the reason when
/// the shutdown is forced).
public final class BackgroundWork: Service, Sendable {
    private struct Job: Sendable {
        var name: String
        var body: @Sendable () async -> Void
    }

    private let jobs: AsyncStream<Job>
    private let submitter: AsyncStream<Job>.Continuation
    private let accepting = Mutex(true)
    private let host = Mutex<Task<Void, Never>?>(nil)
    let logger: Logger

    public init(logger: Logger = Logger(label: "snaplab.background")) {
        (jobs, submitter) = AsyncStream.makeStream(of: Job.self)
        self.logger = logger
    }

    /// Starts `body` in the background. False once shutting down: the caller must not count on it.
    @discardableResult
    func submit(_ name: String, _ body: @escaping @Sendable () async -> Void) -> Bool {
        guard accepting.withLock({ $0 }) else {
            logger.warning("not started: shutting down", metadata: ["job": "\(name)"])
            return false
        }
        // The group is hosted by the one task this owner starts, on first use.
        host.withLock { task in
            if task == nil { task = Task { await self.hostJobs() } }
        }
        submitter.yield(Job(name: name, body: body))
        return true
    }

    private func hostJobs() async {
        await withDiscardingTaskGroup { group in
            for await job in jobs {
                logger.debug("started", metadata: ["job": "\(job.name)"])
                group.addTask {
                    await job.body()
                    self.logger.debug("ended", metadata: ["job": "\(job.name)"])
                }
            }
        }
    }

    /// Stops taking work and waits until every job has ended.
    public func drain() async {
        accepting.withLock { $0 = false }
        submitter.finish()
        await host.withLock({ $0 })?.value
    }

    /// As a service: runs until graceful shutdown, then drains. Cancelled (a forced shutdown): cancels the jobs,
    /// which record why they stopped.
    public func run() async throws {
        await withTaskCancellationHandler {
            try? await gracefulShutdown()
            await drain()
        } onCancel: {
            host.withLock { $0 }?.cancel()
        }
    }
}
