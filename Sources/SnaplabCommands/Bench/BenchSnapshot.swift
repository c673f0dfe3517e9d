import ArgumentParser
import Foundation
import SnaplabCore

extension BenchCommand {
    struct Snapshot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Full snapshot, +1 % changes and restore of a mixed-content volume, against qemu-img, restic and borg.",
            discussion: """
                Cold cache (the page cache is dropped before every timed step when run as root) and a final sync in \
                every timed step of every tool. restic and borg run when installed (scripts/setup.sh installs them). \
                Build with `swift build -c release` first: debug builds are several times slower.
                """)

        @OptionGroup var lab: LabOptions
        @Option(help: "Size of the test volume (3/8 of it is written).") var size = "4G"
        @Option(help: "Runs to make; the table shows each figure's min–max.") var runs = 1
        @Flag(help: "Measure snaplab and qemu-img only.") var noPeers = false
        @Option(help: "Snapshots of other volumes to put in the store first.") var otherSnapshots = 0
        @Option var output: OutputFormat = .table

        func validate() throws {
            let bytes = try validating { try ByteSize.parse(size) }
            if bytes < 64 << 20 { throw ValidationError("--size must be at least 64M") }
            if !(1...20).contains(runs) { throw ValidationError("--runs must be 1–20") }
            if !(0...100).contains(otherSnapshots) { throw ValidationError("--other-snapshots must be 0–100") }
        }

        func run() async throws {
            var options = SnapshotBenchmark.Options()
            options.size = try ByteSize.parse(size)
            options.runs = runs
            options.peers = !noPeers
            options.otherSnapshots = otherSnapshots
            let start = ContinuousClock.now
            let result = try await SnapshotBenchmark(lab: try await lab.openLab(), options: options) { line in
                let elapsed = String(format: "%7.1f s", (ContinuousClock.now - start).inSeconds)
                FileHandle.standardError.write(Data("[\(elapsed)] \(line)\n".utf8))
            }.run()
            let targets = SnapshotBenchmark.targets(result.runs)
            if output == .json {
                struct Report: Encodable {
                    var runs: [SnapshotBenchmark.Run]
                    var targets: [SnapshotBenchmark.Target]
                }
                return try Printer.json(Report(runs: result.runs, targets: targets))
            }
            SnapshotBenchmarkTable(runs: result.runs, targets: targets).print()
        }
    }
}

/// The benchmark's figures as tables: one column per tool, min–max over the runs.
struct SnapshotBenchmarkTable {
    let runs: [SnapshotBenchmark.Run]
    let targets: [SnapshotBenchmark.Target]

    func print() {
        guard let first = runs.first else { return }
        let tools = first.tools.map(\.tool)
        let allocated = ByteSize.format(first.allocatedBytes)
        Swift.print(
            "volume \(ByteSize.format(first.volumeSize)), \(allocated) written; \(runs.count) run(s); page cache \(first.pageCacheDropped ? "dropped before each step" : "NOT dropped (not root)")"
                + (first.otherSnapshots > 0 ? "; store already holding \(first.otherSnapshots) other snapshots" : ""))
        var rows: [[String]] = []
        rows.append(
            ["full copy"] + [seconds(runs.map(\.baselineSeconds))]
                + tools.map { tool in
                    seconds(runs.compactMap { $0.tool(tool)?.full?.seconds })
                })
        rows.append(
            ["  stored"] + ["—"] + tools.map { tool in bytes(runs.compactMap { $0.tool(tool)?.full?.storedBytes }) })
        for (number, change) in first.changes.enumerated() {
            rows.append(
                [change.name] + ["—"]
                    + tools.map { tool in
                        seconds(runs.compactMap { $0.tool(tool)?.changes[safe: number]?.seconds })
                    })
            rows.append(
                ["  stored for \(ByteSize.format(change.bytes)) changed"] + ["—"]
                    + tools.map { tool in
                        let stored = runs.compactMap { $0.tool(tool)?.changes[safe: number]?.storedBytes }
                        return "\(bytes(stored)) (×\(ratio(stored.map { Double($0) / Double(max(1, change.bytes)) })))"
                    })
        }
        rows.append(
            ["restore"] + ["—"] + tools.map { tool in seconds(runs.compactMap { $0.tool(tool)?.restore?.seconds }) })
        rows.append(
            ["  restored image on disk"] + ["—"]
                + tools.map { tool in
                    bytes(runs.compactMap { $0.tool(tool)?.restore?.allocatedBytes })
                })
        Printer.table(["STEP", "qemu-img convert"] + tools, rows)
        Swift.print("")
        Printer.table(
            ["TARGET", "MEASURED", "GOAL", ""],
            targets.map { target in
                [
                    target.name, range(target.values, unit: target.unit), target.goal,
                    target.metInEveryRun
                        ? "met" : "MISSED in \(target.values.count - target.met) of \(target.values.count)",
                ]
            })
    }

    private func seconds(_ values: [Double]) -> String { values.isEmpty ? "—" : range(values, unit: "s") }

    private func bytes(_ values: [UInt64]) -> String {
        guard let low = values.min(), let high = values.max() else { return "—" }
        return span(ByteSize.format(low), ByteSize.format(high))
    }

    private func ratio(_ values: [Double]) -> String {
        guard let low = values.min(), let high = values.max() else { return "—" }
        return span(String(format: "%.2f", low), String(format: "%.2f", high))
    }

    /// "low–high", or one figure when both read the same.
    private func span(_ low: String, _ high: String) -> String { low == high ? low : "\(low)–\(high)" }

    private func range(_ values: [Double], unit: String) -> String {
        guard let low = values.min(), let high = values.max() else { return "—" }
        let format = unit == "MiB" || unit == "" ? "%.0f" : "%.2f"
        let text = span(String(format: format, low), String(format: format, high))
        switch unit {
        case "×": return "×" + text
        case "": return low == 1 && high == 1 ? "yes" : "no"
        default: return "\(text) \(unit)"
        }
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
