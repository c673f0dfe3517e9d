import ArgumentParser
import Foundation
import SnaplabCore

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print ratios against a baseline measured in the same run.",
        subcommands: [Snapshot.self]
    )

    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Full snapshot, 1 % incremental and restore of a reproducible volume, vs qemu-img convert.",
            discussion: "Build with `swift build -c release` first: debug builds are several times slower.")

        @OptionGroup var lab: LabOptions
        @Option(help: "Size of the test volume (about 3/4 of it is written).") var size = "4G"
        @Option var output: OutputFormat = .table

        func validate() throws {
            _ = try validating { try ByteSize.parse(size) }
        }

        func run() async throws {
            let lab = try await lab.openLab()
            let result = try await SnapshotBenchmark(lab: lab, size: try ByteSize.parse(size)) { line in
                FileHandle.standardError.write(Data("\(line)\n".utf8))
            }.run()
            if output == .json { return try Printer.json(result) }
            func mbps(_ value: Double) -> String { String(format: "%.0f MB/s", value) }
            func ratio(_ value: Double) -> String { String(format: "%.3f", value) }
            func verdict(_ ok: Bool) -> String { ok ? "meets target" : "MISSES target" }
            Printer.table(["MEASURE", "VALUE", "TARGET", ""], [
                ["volume / allocated", "\(ByteSize.format(result.volumeSize)) / \(ByteSize.format(result.allocatedBytes))", "", ""],
                ["qemu-img convert -O raw", mbps(result.baselineMBps), "baseline", ""],
                ["full snapshot", "\(mbps(result.fullMBps)) (×\(ratio(result.fullVersusBaseline)))", "≥ ×0.5",
                 verdict(result.fullVersusBaseline >= 0.5)],
                ["full stored", ByteSize.format(result.fullStoredBytes), "", ""],
                ["1 % incremental time", "×\(ratio(result.incrementalVersusFull)) of full", "≤ ×0.06",
                 verdict(result.incrementalVersusFull <= 0.06)],
                ["incremental read / changed / stored",
                 "\(ByteSize.format(result.incrementalReadBytes)) / \(ByteSize.format(result.incrementalChangedBytes)) / \(ByteSize.format(result.incrementalStoredBytes))", "", ""],
                ["stored / changed", ratio(result.storedVersusChanged), "≤ 1.1", verdict(result.storedVersusChanged <= 1.1)],
                ["restore", "\(mbps(result.restoreMBps)) (×\(ratio(result.restoreVersusBaseline)))", "≥ ×0.5",
                 verdict(result.restoreVersusBaseline >= 0.5)],
                ["peak RSS", ByteSize.format(result.peakResidentBytes), "≤ 150 MiB",
                 verdict(result.peakResidentBytes <= 150 << 20)],
            ])
        }
    }
}
