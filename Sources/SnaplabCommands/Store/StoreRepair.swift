import ArgumentParser
import SnaplabCore

extension StoreCommand {
    struct Repair: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the store's indexes from its packs (after `store verify` reports an unreadable index).",
            discussion: """
                Packs describe their own records, so the index of which chunks the store holds can be rebuilt from
                them. By default only packs no index describes are read, unless an index object is damaged: then
                every pack is read and the rebuilt index replaces all index objects. Only chunks whose bytes match
                their hash are indexed. Waits for snapshots being written, like `store gc`.
                """)

        @OptionGroup var lab: LabOptions
        @Flag(help: "Read every pack and replace every index object.") var full = false
        @Option(help: "Seconds to wait for snapshots being written.") var timeout = 600
        @Option var output: OutputFormat = .table

        func run() async throws {
            let report = try await lab.openLab().store.repair(full: full, timeout: .seconds(timeout))
            if output == .json { return try Printer.json(report) }
            print(
                "scanned \(report.packsScanned) packs, indexed \(report.chunksIndexed) chunks, skipped \(report.damagedStretches) damaged stretches; replaced \(report.indexesReplaced.count) unreadable index objects"
            )
            for key in report.indexesReplaced { print("replaced \(key)") }
        }
    }
}
