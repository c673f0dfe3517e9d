import ArgumentParser
import SnaplabCore

/// The options `snapshot create` and `snapshot create-set` share.
struct SnapshotRequestOptions: ParsableArguments {
    @Flag(help: "Wait until the copy is complete, showing progress.") var wait = false
    @Flag(help: "Do not freeze the guest filesystem (crash-consistent).") var noFreeze = false
    @Option(help: "A description.") var description: String?
    @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.") var tags: [String] = []
    @Option var output: OutputFormat = .table
    @Flag(name: .customLong("background-worker"), help: .hidden) var backgroundWorker = false

    func validate() throws {
        _ = try TagParser.parse(tags)
    }

    func snapshotOptions() throws -> SnapshotOptions {
        SnapshotOptions(description: description, tags: try TagParser.parse(tags), freeze: !noFreeze)
    }

    /// Captures here and waits, or hands the copy to a detached worker (see `BackgroundWorker`).
    func run(lab: LabOptions, capture: (Lab) async throws -> [Snapshot]) async throws {
        let arguments = CommandLine.arguments.dropFirst().filter { $0 != "--wait" }
        try await SnapshotRunner.run(
            lab: lab, wait: wait, worker: backgroundWorker, output: output,
            arguments: Array(arguments), capture: capture)
    }
}
