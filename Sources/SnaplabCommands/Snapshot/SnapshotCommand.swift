import ArgumentParser
import SnaplabCore

struct SnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Point-in-time copies of volumes in the snapshot store.",
        subcommands: [
            Create.self, CreateSet.self, List.self, Describe.self, Delete.self, Restore.self, Diff.self,
            Pin.self, Unpin.self, Lock.self, Unlock.self, Recover.self, Export.self,
        ]
    )

    static let header = [
        "ID", "VOLUME", "ROLE", "STATE", "PROGRESS", "SIZE", "ALLOCATED", "STORED", "KIND",
        "CONSISTENCY", "CREATED",
    ]

    static func row(_ snapshot: Snapshot) -> [String] {
        [
            snapshot.id, snapshot.volumeId, snapshot.volumeRole.rawValue, snapshot.state.rawValue,
            "\(Int(snapshot.progress))%", ByteSize.format(snapshot.volumeSize),
            ByteSize.format(snapshot.allocatedBytes),
            ByteSize.format(snapshot.bytesStored), snapshot.incremental ? "incremental" : "full",
            snapshot.consistency?.rawValue ?? "-", Printer.date(snapshot.createdAt),
        ]
    }

    /// Waits for snapshots with a progress bar and fails if one ends in error.
    static func wait(for snapshots: [Snapshot], lab: Lab) async throws -> [Snapshot] {
        var finished: [Snapshot] = []
        for snapshot in snapshots {
            let bar = ProgressBar("\(snapshot.id) \(snapshot.volumeId)")
            let result = try await lab.snapshots.wait(for: snapshot.id) { bar.update($0) }
            bar.update(result.progress)
            bar.finish()
            finished.append(result)
        }
        if let failed = finished.first(where: { $0.state == .error }) {
            throw SnaplabError(.io, "snapshot \(failed.id) failed: \(failed.errorMessage ?? "unknown error")")
        }
        return finished
    }
}
