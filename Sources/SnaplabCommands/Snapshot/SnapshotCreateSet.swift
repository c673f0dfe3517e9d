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
        @Flag(help: "Wait until the copies are complete, showing progress.") var wait = false
        @Flag(help: "Do not freeze the guest filesystems (crash-consistent).") var noFreeze = false
        @Option(help: "A description.") var description: String?
        @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.") var tags: [String] = []
        @Option var output: OutputFormat = .table
        @Flag(name: .customLong("background-worker"), help: .hidden) var backgroundWorker = false

        func validate() throws {
            _ = try TagParser.parse(tags)
        }

        func run() async throws {
            let options = SnapshotOptions(description: description, tags: try TagParser.parse(tags), freeze: !noFreeze)
            let chosen = volumes.isEmpty ? nil : volumes
            try await SnapshotRunner.run(lab: lab, wait: wait, worker: backgroundWorker, output: output,
                                         arguments: CommandLine.arguments.dropFirst().filter { $0 != "--wait" }) { lab in
                try await lab.createSnapshotSet(instanceId: instance, volumeIds: chosen, options: options)
            }
        }
    }
}
