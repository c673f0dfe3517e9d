import ArgumentParser
import SnaplabCore

extension HostCommand {
    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a libvirt host: qemu:///system, qemu:///session, qemu+ssh://…, qemu+tcp://….")

        @OptionGroup var lab: LabOptions
        @Argument(help: "A name for the host.") var name: String
        @Argument(help: "Its libvirt URI.") var uri: String
        @Option(help: "The storage pool on that host.") var poolName = "snaplab"
        @Option(help: "The pool's directory on that host. Default: STATE_DIR/pool-NAME.") var poolPath: String?

        func run() async throws {
            let report = try await lab.openLab().hosts.add(name: name, uri: uri, poolName: poolName, poolPath: poolPath)
            print(
                "host \(report.host.name): \(report.host.uri) (libvirt \(report.libvirtVersion), qemu \(report.hypervisorVersion)), pool \(report.host.poolName) at \(report.host.poolPath)"
            )
        }
    }
}
