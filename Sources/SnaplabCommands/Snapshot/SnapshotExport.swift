import ArgumentParser
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
            await Interrupts.untilInterrupted()
            server.stop()
            await source.close()
        }
    }
}
