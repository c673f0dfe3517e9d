import ArgumentParser
import SnaplabCore

extension VolumeCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List volumes.")

        @OptionGroup var lab: LabOptions
        @Option var output: OutputFormat = .table

        func run() async throws {
            let volumes = try await lab.openLab().volumes.list()
            if output == .json { return try Printer.json(volumes) }
            Printer.table(VolumeCommand.header, VolumeCommand.rows(volumes))
        }
    }
}
