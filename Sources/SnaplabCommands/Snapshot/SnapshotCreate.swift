import ArgumentParser
import Foundation
import SnaplabCore

extension SnapshotCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snapshot one volume; returns once the instant is captured (state pending) unless --wait.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The volume id (vol-…).") var volume: String
        @OptionGroup var request: SnapshotRequestOptions

        func run() async throws {
            let options = try request.snapshotOptions()
            try await request.run(lab: lab) { lab in
                [try await lab.snapshots.create(volumeId: volume, options: options)]
            }
        }
    }
}

/// Shared by `create` and `create-set`: capture here and wait, or hand the copy to a detached worker.
enum SnapshotRunner {
    static func run(
        lab options: LabOptions, wait: Bool, worker: Bool, output: OutputFormat,
        arguments: [String], capture: (Lab) async throws -> [Snapshot]
    ) async throws {
        if !wait && !worker {
            let printed = try await BackgroundWorker.launch(Array(arguments), paths: options.paths)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            let snapshots = try decoder.decode([Snapshot].self, from: printed)
            return try show(snapshots, output: output)
        }
        if worker { BackgroundWorker.detach() }
        let lab = try await options.openLab()
        let snapshots = try await capture(lab)
        if worker {
            try Printer.json(snapshots)
            BackgroundWorker.closeOutput()
            try await BackgroundWorker.finish(lab.background)
            return
        }
        try show(try await SnapshotCommand.wait(for: snapshots, lab: lab), output: output)
    }

    static func show(_ snapshots: [Snapshot], output: OutputFormat) throws {
        if output == .json { return try Printer.json(snapshots) }
        Printer.table(SnapshotCommand.header, snapshots.map(SnapshotCommand.row))
    }
}
