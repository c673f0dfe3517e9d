import ArgumentParser
import SnaplabCore

extension VolumeCommand {
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one volume.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The volume id (vol-…).") var id: String
        @Option var output: OutputFormat = .table

        func run() async throws {
            let volume = try await lab.openLab().volumes.get(id)
            if output == .json { return try Printer.json(volume) }
            Printer.table(
                ["FIELD", "VALUE"],
                [
                    ["id", volume.id], ["role", volume.role.rawValue], ["size", ByteSize.format(volume.size)],
                    ["state", volume.state.rawValue], ["host", volume.host], ["path", volume.path],
                    ["attached", volume.instanceId.map { "\($0) as \(volume.device ?? "?")" } ?? "-"],
                    ["delete-on-termination", volume.instanceId == nil ? "-" : String(volume.deleteOnTermination)],
                    ["origin", volume.origin ?? "-"], ["kernel", volume.boot?.kernel ?? "-"],
                    ["created", Printer.date(volume.createdAt)], ["tags", Printer.tags(volume.tags)],
                ])
        }
    }
}
