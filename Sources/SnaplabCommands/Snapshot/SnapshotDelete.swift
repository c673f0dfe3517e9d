import ArgumentParser
import Foundation

extension SnapshotCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a snapshot (newer snapshots never depend on it; `store gc` reclaims its space).",
            discussion:
                "A snapshot a recycle bin rule matches goes to the bin instead (`snapshot recover` brings it back); a locked one is refused."
        )

        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String

        func run() async throws {
            switch try await lab.openLab().snapshots.delete(id) {
            case .deleted:
                print("deleted \(id)")
            case .recycled(let entry):
                print(
                    "moved \(id) to the recycle bin until \(ISO8601DateFormatter().string(from: entry.retainUntil)) (rule \(entry.ruleId)); `snaplab snapshot recover \(id)` brings it back"
                )
            }
        }
    }
}
