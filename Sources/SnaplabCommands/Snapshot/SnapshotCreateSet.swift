import ArgumentParser
import SnaplabCore

extension SnapshotCommand {
    struct CreateSet: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-set",
            abstract: "Snapshot the volumes of one instance at one instant (one snapshot per volume).")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var instance: String
        @Option(name: .customLong("volume"), help: "Only these volumes (repeat); default: all of them.")
        var volumes: [String] = []
        @OptionGroup var request: SnapshotRequestOptions

        func run() async throws {
            let options = try request.snapshotOptions()
            let chosen = volumes.isEmpty ? nil : volumes
            try await request.run(lab: lab) { lab in
                try await lab.snapshots.createSet(instanceId: instance, volumeIds: chosen, options: options)
            }
        }
    }
}
