import ArgumentParser
import SnaplabCore

extension SnapshotCommand {
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore a snapshot into a new volume.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String
        @Option(name: .customLong("tag"), help: "KEY=VALUE for the new volume; repeat for more.") var tags: [String] =
            []
        @Option(help: "The host whose pool gets the new volume (default: local).") var host: String?
        @Option var output: OutputFormat = .table

        func validate() throws {
            _ = try TagParser.parse(tags)
        }

        func run() async throws {
            let bar = ProgressBar("restoring \(id)")
            let volume = try await lab.openLab().snapshots.restore(id, tags: try TagParser.parse(tags), host: host) {
                bar.update($0)
            }
            bar.finish()
            if output == .json { return try Printer.json(volume) }
            print(volume.id)
        }
    }
}
