import ArgumentParser
import Foundation
import SnaplabCore

extension BenchCommand {
    struct BootReportCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "boot-report",
            abstract: "Re-render boot sweep results (table, CSV, SVG, PNG) from saved boot.json files, merged.",
            discussion:
                "For example, a variants sweep run in two parts: --from a/boot.json --from b/boot.json --out both.")

        @Option(name: .customLong("from"), help: "A boot.json written by `bench boot` (repeat to merge).")
        var inputs: [String]
        @Option(help: "Where to write the CSV, JSON and plot.") var out = "boot-bench"

        func run() async throws {
            var records: [BootRecord] = []
            for input in inputs {
                let data: Data
                do {
                    data = try Data(contentsOf: URL(fileURLWithPath: input))
                } catch {
                    throw ValidationError("cannot read \(input): \(error.localizedDescription)")
                }
                do {
                    records += try JSONDecoder().decode([BootRecord].self, from: data)
                } catch {
                    throw ValidationError("\(input) is not a boot.json written by `snaplab bench boot`: \(error)")
                }
            }
            try await BootResultsWriter.write(records, to: out)
        }
    }
}
