import Blocking
import Foundation
import NBDServer

/// Makes sure the lab's export service runs: the one inside `daemon` or `serve` when they run, otherwise a
/// detached `snaplab export serve --idle-exit … --detach` started here, which exits once no export is in use
/// and no lazy volume is left to complete. So lazy launch and restore work from the CLI alone.
public struct ExportServiceLauncher: Sendable {
    /// How long a started service waits without connections or lazy work before it exits.
    public static let idleExit = 30

    let paths: LabPaths

    /// Returns once the service accepts connections; starts one when none runs.
    public func ensureRunning() async throws(SnaplabError) {
        let paths = self.paths
        if !(await BlockingPool.run { ExportService.isRunning(paths) }) {
            try await start()
        }
        let socket = ExportService.socketPath(paths)
        let deadline = ContinuousClock.now + .seconds(30)
        while !(await BlockingPool.run { UnixSocketAddress.accepts(socket) }) {
            guard ContinuousClock.now < deadline else {
                throw SnaplabError(
                    .internal,
                    "the export service did not start listening on \(socket) within 30 s; see \(logPath.path)")
            }
            try? await Task.sleep(for: .milliseconds(50))
        }
    }

    var logPath: URL { paths.exports.appendingPathComponent("service.log") }

    private func start() async throws(SnaplabError) {
        let executable = try Self.executable()
        let paths = self.paths
        let log = logPath
        do {
            try await BlockingPool.run {
                try Directories.create(paths.exports)
                let process = Process()
                process.executableURL = executable
                process.arguments = ["export", "serve", "--idle-exit", "\(Self.idleExit)", "--detach"]
                var environment = ProcessInfo.processInfo.environment
                environment["SNAPLAB_STATE_DIR"] = paths.stateDirectory.path
                environment["SNAPLAB_IMAGE_CACHE"] = paths.imageCache.path
                process.environment = environment
                process.standardInput = FileHandle.nullDevice
                if !FileManager.default.fileExists(atPath: log.path) {
                    _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                }
                let output = try FileHandle(forWritingTo: log)
                output.seekToEndOfFile()
                process.standardOutput = output
                process.standardError = output
                try process.run()
                try output.close()
            }
        } catch {
            throw SnaplabError(.internal, "cannot start the export service (\(executable.path))", cause: error)
        }
    }

    /// The `snaplab` binary: `$SNAPLAB_EXECUTABLE`, this process when it is snaplab, else the snaplab next to it
    /// (a test runner in the same build directory).
    static func executable() throws(SnaplabError) -> URL {
        if let named = ProcessInfo.processInfo.environment["SNAPLAB_EXECUTABLE"] {
            return URL(fileURLWithPath: named)
        }
        let me = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        if me.lastPathComponent == "snaplab" { return me }
        let sibling = me.deletingLastPathComponent().appendingPathComponent("snaplab")
        guard FileManager.default.isExecutableFile(atPath: sibling.path) else {
            throw SnaplabError(
                .notFound,
                "cannot find the snaplab executable to start the export service; set SNAPLAB_EXECUTABLE to its path")
        }
        return sibling
    }
}
