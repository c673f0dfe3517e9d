import ArgumentParser
import Foundation
import SnaplabCore

extension BenchCommand {
    struct Encryption: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Full snapshot and restore throughput, plain store against encrypted store, in the same run.",
            discussion:
                "Each run snapshots the same volume into a new plain and a new encrypted directory store and restores each, page cache dropped before every timed step; ratios are pair by pair."
        )

        @OptionGroup var lab: LabOptions
        @Option(help: "Size of the test volume (about 3/4 of it is written).") var size = "1G"
        @Option(help: "Runs (each measures both stores).") var runs = 3
        @Option var output: OutputFormat = .table

        func validate() throws {
            _ = try validating { try ByteSize.parse(size) }
            guard (1...20).contains(runs) else { throw ValidationError("--runs must be 1–20") }
        }

        func run() async throws {
            let result = try await EncryptionBenchmark(
                lab: try await lab.openLab(), size: try ByteSize.parse(size), runs: runs
            )
            .run { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            if output == .json { return try Printer.json(result) }
            Printer.table(
                ["RUN", "STORE", "SNAPSHOT", "RESTORE", "STORED", "CHUNKS"],
                result.runs.enumerated().flatMap { number, run in
                    [("plain", run.plain), ("encrypted", run.encrypted)].map { name, step in
                        [
                            "\(number + 1)", name, String(format: "%.2f s", step.snapshotSeconds),
                            String(format: "%.2f s", step.restoreSeconds), ByteSize.format(step.storedBytes),
                            "\(step.chunks)",
                        ]
                    }
                })
            print(
                String(
                    format:
                        "medians over %d runs (%@ allocated): snapshot %.0f → %.0f MB/s (×%.2f), restore %.0f → %.0f MB/s (×%.2f); target ≥ ×0.90",
                    result.runs.count, ByteSize.format(result.allocatedBytes), result.plainSnapshotMBps,
                    result.encryptedSnapshotMBps, result.snapshotRatio, result.plainRestoreMBps,
                    result.encryptedRestoreMBps, result.restoreRatio))
        }
    }
}
