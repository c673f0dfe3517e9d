import ArgumentParser
import SnaplabCore

extension SnapshotCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List snapshots.")

        @OptionGroup var lab: LabOptions
        @Option(help: "Only snapshots of this volume.") var volume: String?
        @Option var output: OutputFormat = .table

        func run() async throws {
            let snapshots = try await lab.openLab().snapshots.list().filter { volume == nil || $0.volumeId == volume }
            if output == .json { return try Printer.json(snapshots) }
            Printer.table(SnapshotCommand.header, snapshots.map(SnapshotCommand.row))
        }
    }
}
