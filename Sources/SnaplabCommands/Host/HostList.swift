import ArgumentParser
import SnaplabCore

extension HostCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the lab's hosts, their pools and instances.")

        @OptionGroup var lab: LabOptions
        @Option var output: OutputFormat = .table

        func run() async throws {
            let hosts = try await lab.openLab().hosts.summaries()
            if output == .json { return try Printer.json(hosts) }
            Printer.table(
                ["NAME", "URI", "POOL", "FREE", "CAPACITY", "INSTANCES", "RUNNING", "VOLUMES", "PROBLEM"],
                hosts.map { summary in
                    [
                        summary.host.name, summary.host.uri, summary.host.poolName,
                        summary.poolAvailable.map(ByteSize.format) ?? "-",
                        summary.poolCapacity.map(ByteSize.format) ?? "-",
                        "\(summary.instances)", "\(summary.runningInstances)", "\(summary.volumes)",
                        summary.problem ?? "-",
                    ]
                })
        }
    }
}
