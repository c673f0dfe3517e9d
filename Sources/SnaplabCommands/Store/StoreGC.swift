import ArgumentParser
import SnaplabCore
import SnapshotStore

extension StoreCommand {
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "Remove chunks no snapshot uses (waits for snapshots being written).")

        @OptionGroup var lab: LabOptions
        @Option(help: "Seconds to wait for snapshots being written.") var timeout = 600
        @Option(help: "Minutes a pack no index describes is kept (a writer may still be about to index it).")
        var grace = 60
        @Flag(help: "Sweep even though snapshots the last gc saw vanished without being deleted.")
        var acceptMissing = false
        @Option var output: OutputFormat = .table

        func run() async throws {
            let options = GarbageOptions(unindexedGrace: .seconds(grace * 60), acceptMissing: acceptMissing)
            let opened = try await lab.openLab()
            // What the recycle bin held past its retention goes first, so its chunks are reclaimed now.
            let purged = try await opened.snapshots.purgeRecycleBin()
            let report = try await opened.store.collectGarbage(options: options, timeout: .seconds(timeout))
            if output == .json { return try Printer.json(report) }
            if !purged.isEmpty { print("recycle bin: deleted \(purged.count) snapshot(s) past their retention") }
            print(
                "kept \(report.referencedChunks) chunks; removed \(report.chunksRemoved) chunks, deleted \(report.packsDeleted) packs, rewrote \(report.packsRewritten); reclaimed \(ByteSize.format(report.bytesReclaimed)) (\(ByteSize.format(report.deadBytesKept)) unused left in mostly-live packs\(report.unindexedPacksKept > 0 ? "; kept \(report.unindexedPacksKept) unindexed packs younger than \(grace) min" : ""))"
            )
        }
    }
}
