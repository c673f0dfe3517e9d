import ArgumentParser
import Dispatch
import Foundation
import NBDServer
import SnaplabCore

extension SnapshotCommand {
    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Serve a completed snapshot read-only over NBD on a unix socket, read from the store on demand, until interrupted.",
            discussion: """
                Prints the export's URI (nbd+unix:///SNAPSHOT?socket=PATH) once it listens: `nbdinfo --map URI`,
                `qemu-img convert -f raw URI …` or a qcow2 overlay backed by it read it. Holes stay holes
                (NBD block status, base:allocation); every chunk read is checked against its hash.
                """)

        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot (snap-…).") var snapshot: String
        @Option(help: "The socket to listen on (default STATE_DIR/exports/SNAPSHOT.sock).") var socket: String?

        func run() async throws {
            let lab = try await lab.openLab()
            let source = try await lab.snapshots.openBlockSource(snapshot)
            let path = socket ?? lab.paths.exports.appendingPathComponent("\(snapshot).sock").path
            try FileManager.default.createDirectory(
                atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            let server: NBDServer
            do {
                server = try NBDServer(socketPath: path)
            } catch {
                await source.close()
                throw error
            }
            server.add(snapshot, source)
            server.start()
            FileHandle.standardOutput.write(Data("nbd+unix:///\(snapshot)?socket=\(path)\n".utf8))
            await Self.untilInterrupted()
            server.stop()
            await source.close()
        }

        /// Returns on the first SIGINT or SIGTERM.
        static func untilInterrupted() async {
            signal(SIGINT, SIG_IGN)
            signal(SIGTERM, SIG_IGN)
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let once = OnceFlag()
                let sources = [SIGINT, SIGTERM].map { DispatchSource.makeSignalSource(signal: $0) }
                for source in sources {
                    source.setEventHandler {
                        guard once.claim() else { return }
                        for source in sources { source.cancel() }
                        continuation.resume()
                    }
                    source.resume()
                }
            }
        }
    }
}

/// True for the first caller only.
private final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false

    func claim() -> Bool {
        lock.withLock {
            defer { claimed = true }
            return !claimed
        }
    }
}
