import ArgumentParser
import SnaplabCore

extension SnapshotCommand {
    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Restore a snapshot into a new volume.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String
        @Option(name: .customLong("tag"), help: "KEY=VALUE for the new volume; repeat for more.") var tags: [String] =
            []
        @Option(help: "The host whose pool gets the new volume (default: local).") var host: String?
        @Option var output: OutputFormat = .table
        @Flag(
            help: """
                Return at once a volume that reads from the snapshot's export until the host has hydrated it \
                (attach and boot it right away; `volume describe` shows the progress).
                """)
        var lazy = false
        @Option(help: "Bound a lazy restore's background hydration, in bytes per second (e.g. 200M).")
        var pullRate: String?

        func validate() throws {
            _ = try TagParser.parse(tags)
            if pullRate != nil, !lazy { throw ValidationError("--pull-rate goes with --lazy") }
            if let pullRate { _ = try ByteSize.parse(pullRate) }
        }

        func run() async throws {
            if lazy {
                let volume = try await lab.openLab().lazy.restore(
                    id, tags: try TagParser.parse(tags), host: host,
                    pullRate: try pullRate.map { rate throws(SnaplabError) in try ByteSize.parse(rate) })
                if output == .json { return try Printer.json(volume) }
                return print(volume.id)
            }
            let bar = ProgressBar("restoring \(id)")
            let volume = try await lab.openLab().snapshots.restore(id, tags: try TagParser.parse(tags), host: host) {
                bar.update($0)
            }
            bar.finish()
            if output == .json { return try Printer.json(volume) }
            print(volume.id)
        }
    }
}
