import ArgumentParser
import Foundation
import SnaplabCore

extension StoreCommand {
    struct Copy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Copy snapshots into another store (dir:///… or s3://bucket/prefix), as cross-region copy does.")

        @OptionGroup var lab: LabOptions
        @Option(help: "The destination store URL.") var to: String
        @Option(name: .customLong("snapshot"), help: "Only these snapshots (repeat); default: every completed one.")
        var snapshots: [String] = []
        @Flag(
            help:
                "Make the destination (new, or empty) an encrypted store with --key-file (or SNAPLAB_STORE_PASSPHRASE)."
        )
        var encrypt = false
        @Option(help: "The destination's key file, when it is encrypted.") var keyFile: String?
        @Option var output: OutputFormat = .table

        func run() async throws {
            let key = encrypt || keyFile != nil ? try StoreKeyOptions.source(keyFile: keyFile) : nil
            let report = try await lab.openLab().store.copy(
                to: to, snapshotIds: snapshots.isEmpty ? nil : snapshots, destinationKey: key, encrypt: encrypt
            ) {
                id in
                FileHandle.standardError.write(Data("copied \(id)\n".utf8))
            }
            if output == .json { return try Printer.json(report) }
            print(
                "copied \(report.snapshotsCopied.count) snapshots (\(report.chunksCopied) chunks, \(ByteSize.format(report.bytesStored)) stored), \(report.snapshotsAlreadyThere.count) already there; \(report.artifactsCopied) artifacts, \(report.documentsCopied) documents"
            )
        }
    }
}
