import ArgumentParser
import SnaplabCore

extension StoreCommand {
    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-hash every stored chunk and report the snapshots a bad one breaks.")

        @OptionGroup var lab: LabOptions
        @Option(help: "Check only this fraction of chunks (0–1).") var sample = 1.0
        @Option var output: OutputFormat = .table

        func validate() throws {
            if !(sample > 0 && sample <= 1) { throw ValidationError("--sample must be in (0, 1]") }
        }

        func run() async throws {
            let bar = ProgressBar("verifying")
            let report = try await lab.openLab().store.verify(sample: sample) { bar.update($0 * 100) }
            bar.finish()
            if output == .json {
                try Printer.json(report)
            } else {
                print(
                    "checked \(report.checkedChunks) chunks (\(ByteSize.format(report.checkedBytes))) of \(report.checkedSnapshots) snapshots"
                )
                for (hash, reason) in report.badChunks.sorted(by: { $0.key < $1.key }) {
                    print("bad chunk \(hash): \(reason)")
                }
                for hash in report.missingChunks { print("missing chunk \(hash)") }
                for (id, reason) in report.unreadableManifests.sorted(by: { $0.key < $1.key }) {
                    print("unreadable snapshot \(id): \(reason)")
                }
                for (key, reason) in report.unreadableIndexes.sorted(by: { $0.key < $1.key }) {
                    print("unreadable index \(key): \(reason) (`snaplab store repair` rebuilds it)")
                }
                for (id, count) in report.brokenSnapshots.sorted(by: { $0.key < $1.key }) {
                    print("BROKEN snapshot \(id): \(count) chunks bad or missing; it cannot be restored")
                }
                print(report.isClean ? "store is clean" : "store has damage")
            }
            if !report.isClean { throw ExitCode(ExitStatus.for(.store)) }
        }
    }
}
