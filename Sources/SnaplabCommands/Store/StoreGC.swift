import ArgumentParser
import SnaplabCore

extension StoreCommand {
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove chunks no snapshot uses (waits for snapshots being written).")

        @OptionGroup var lab: LabOptions
        @Option(help: "Seconds to wait for snapshots being written.") var timeout = 600
        @Option var output: OutputFormat = .table

        func run() async throws {
            let report = try await lab.openLab().store.collectGarbage(timeout: .seconds(timeout))
            if output == .json { return try Printer.json(report) }
            print(
                "kept \(report.referencedChunks) chunks; removed \(report.chunksRemoved) chunks, deleted \(report.packsDeleted) packs, rewrote \(report.packsRewritten); reclaimed \(ByteSize.format(report.bytesReclaimed)) (\(ByteSize.format(report.deadBytesKept)) unused left in mostly-live packs)"
            )
        }
    }
}
