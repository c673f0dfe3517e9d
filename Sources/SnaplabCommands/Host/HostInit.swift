import ArgumentParser
import SnaplabCore
import SnapshotStore

extension HostCommand {
    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that libvirt answers, create the storage pool and record the host.")

        @OptionGroup var lab: LabOptions

        @Option(help: "The libvirt connection URI.")
        var uri = "qemu:///system"

        @Option(help: "The libvirt storage pool for the lab's volumes.")
        var poolName = "snaplab"

        @Option(help: "The pool's directory. Default: STATE_DIR/pool.")
        var poolPath: String?

        @Option(help: "Where snapshots go: dir:///PATH (default STATE_DIR/store) or s3://bucket/prefix[?endpoint=…].")
        var store: String?

        @Flag(help: "Make the store an encrypted one (it must be new): AES-256-GCM chunks, keyed chunk names.")
        var encrypt = false

        @Option(
            help:
                "With --encrypt: the key file that unlocks it (`snaplab store key generate FILE` makes one; else SNAPLAB_STORE_PASSPHRASE)."
        )
        var keyFile: String?

        @Option var output: OutputFormat = .table

        func validate() throws {
            if keyFile != nil && !encrypt { throw ValidationError("--key-file goes with --encrypt") }
        }

        func run() async throws {
            let lab = try await lab.openLab()
            if let store { try await lab.store.setURL(store) }
            if encrypt { try await lab.store.encrypt(with: try StoreKeyOptions.source(keyFile: keyFile)) }
            let report = try await lab.hosts.initialize(uri: uri, poolName: poolName, poolPath: poolPath)
            if output == .json { return try Printer.json(report) }
            print(
                "host \(report.host.name): \(report.host.uri) (libvirt \(report.libvirtVersion), qemu \(report.hypervisorVersion))"
            )
            print(
                "pool \(report.host.poolName) at \(report.host.poolPath): \(ByteSize.format(report.poolAvailable)) free of \(ByteSize.format(report.poolCapacity))"
            )
        }
    }
}
