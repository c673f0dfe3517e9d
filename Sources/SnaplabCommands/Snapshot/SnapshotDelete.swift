import ArgumentParser

extension SnapshotCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a snapshot (newer snapshots never depend on it; `store gc` reclaims its space).")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String

        func run() async throws {
            try await lab.openLab().snapshots.delete(id)
            print("deleted \(id)")
        }
    }
}
