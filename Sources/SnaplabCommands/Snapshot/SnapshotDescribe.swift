import ArgumentParser
import SnaplabCore

extension SnapshotCommand {
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one snapshot.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String
        @Option var output: OutputFormat = .table

        func run() async throws {
            let snapshot = try await lab.openLab().snapshots.get(id)
            if output == .json { return try Printer.json(snapshot) }
            Printer.table(
                ["FIELD", "VALUE"],
                [
                    ["id", snapshot.id], ["volume", "\(snapshot.volumeId) (\(snapshot.volumeRole.rawValue))"],
                    ["state", snapshot.state.rawValue + (snapshot.errorMessage.map { ": \($0)" } ?? "")],
                    ["progress", "\(snapshot.progress)%"], ["size", ByteSize.format(snapshot.volumeSize)],
                    ["allocated", ByteSize.format(snapshot.allocatedBytes)],
                    ["read", ByteSize.format(snapshot.bytesRead)], ["changed", ByteSize.format(snapshot.bytesChanged)],
                    ["stored", ByteSize.format(snapshot.bytesStored)],
                    ["kind", snapshot.incremental ? "incremental" : "full"], ["parent", snapshot.parentId ?? "-"],
                    ["set", snapshot.setId ?? "-"],
                    [
                        "consistency",
                        (snapshot.consistency?.rawValue ?? "-") + (snapshot.consistencyNote.map { " (\($0))" } ?? ""),
                    ],
                    ["instance", snapshot.instanceId ?? "-"], ["created", Printer.date(snapshot.createdAt)],
                    ["completed", Printer.date(snapshot.completedAt)], ["description", snapshot.description ?? "-"],
                    ["tags", Printer.tags(snapshot.tags)],
                ])
        }
    }
}
