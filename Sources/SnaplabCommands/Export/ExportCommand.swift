import ArgumentParser
import Foundation
import SnaplabCore

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "The host's export service: completed snapshots read-only over NBD, read from the store on demand.",
        subcommands: [Serve.self])
}

extension ExportCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve every completed snapshot on STATE_DIR/exports/nbd.sock (export name = snapshot id).",
            discussion: """
                One service per lab: a second one is refused. Each snapshot is opened from the store when a client
                first asks for it and closed when its last connection ends. Stops on SIGINT or SIGTERM, or with
                --idle-exit after that many seconds without a connection.
                """)

        @OptionGroup var lab: LabOptions
        @Option(help: "Exit after this many seconds without a connection and without lazy volumes to complete.")
        var idleExit: Int?
        @Flag(help: .hidden) var detach = false

        func validate() throws {
            if let idleExit, idleExit < 1 { throw ValidationError("--idle-exit must be at least 1 second") }
        }

        func run() async throws {
            // Started by `instance run` or `snapshot restore` (see ExportServiceLauncher) in a process group of its
            // own, so the caller's Ctrl-C does not reach it; a new session where possible, and a hang-up ignored, so
            // the caller's terminal going away does not end it either. Its output goes to the launcher's log.
            if detach {
                _ = setsid()
                signal(SIGHUP, SIG_IGN)
            }
            let lab = try await lab.openLab(longRunning: true)
            let service = try await ExportService.start(lab: lab)
            let signals = Interrupts.onInterrupt { service.stop() }
            FileHandle.standardOutput.write(
                Data("nbd+unix:///SNAPSHOT?socket=\(ExportService.socketPath(lab.paths))\n".utf8))
            await service.run(idleExit: idleExit.map { .seconds($0) })
            for source in signals { source.cancel() }
        }
    }
}
