import ArgumentParser
import SnaplabCore

extension SnapshotCommand {
    struct Diff: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "The byte ranges that differ between two snapshots (like EBS ListChangedBlocks).")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The older snapshot.") var first: String
        @Argument(help: "The newer snapshot.") var second: String
        @Option var output: OutputFormat = .table

        func run() async throws {
            let ranges = try await lab.openLab().snapshots.diff(first, second)
            if output == .json { return try Printer.json(ranges) }
            Printer.table(["OFFSET", "LENGTH"], ranges.map { [String($0.offset), String($0.length)] })
            let total = ranges.reduce(0) { $0 + $1.length }
            print("\(ranges.count) ranges, \(ByteSize.format(total)) changed")
        }
    }
}
