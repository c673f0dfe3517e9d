import Blocking
import Foundation
import Logging
import ServiceLifecycle
import SnaplabCore

/// `snapshot create` without `--wait` returns as soon as the point in time is captured, like EC2's
/// CreateSnapshot: the command runs itself again as a detached worker that captures, prints the pending
/// snapshot(s) as JSON, closes its output, and goes on copying after this process has exited.
enum BackgroundWorker {
    static let flag = "--background-worker"

    /// In the parent: starts the worker with `arguments` and returns what it printed once captured.
    static func launch(_ arguments: [String], paths: LabPaths) async throws -> Data {
        try await BlockingPool.run { try launchWaiting(arguments, paths: paths) }
    }

    private static func launchWaiting(_ arguments: [String], paths: LabPaths) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = arguments + [flag]
        var environment = ProcessInfo.processInfo.environment
        environment["SNAPLAB_STATE_DIR"] = paths.stateDirectory.path
        environment["SNAPLAB_IMAGE_CACHE"] = paths.imageCache.path
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let printed = output.fileHandleForReading.readDataToEndOfFile()
        if printed.isEmpty {
            process.waitUntilExit()
            throw SnaplabError(
                .internal, "the snapshot worker exited (status \(process.terminationStatus)) before capturing")
        }
        return printed
    }

    /// In the worker: leaves the parent's session and, after printing, lets go of its output.
    static func detach() {
        setsid()
        signal(SIGHUP, SIG_IGN)
        signal(SIGPIPE, SIG_IGN)
    }

    /// In the worker, after the capture: runs until the copies end. SIGTERM or SIGINT does not cut a copy short:
    /// the background work drains (copies finish, or end `error` with the reason).
    static func finish(_ background: BackgroundWork) async throws {
        let logger = Logger(label: "snaplab.snapshot-worker")
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: background),
                    .init(service: Drain(background: background), successTerminationBehavior: .gracefullyShutdownGroup),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }

    /// Ends once every job has: the worker has nothing else to do.
    private struct Drain: Service {
        let background: BackgroundWork
        func run() async throws { await background.drain() }
    }

    /// After printing: stdout and stderr go to /dev/null (the outcome is recorded in the catalog).
    static func closeOutput() {
        fflush(nil)
        let null = open("/dev/null", O_WRONLY)
        if null >= 0 {
            dup2(null, STDOUT_FILENO)
            dup2(null, STDERR_FILENO)
            close(null)
        }
    }
}
