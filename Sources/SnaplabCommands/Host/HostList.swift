import ArgumentParser
import SnaplabCore

extension HostCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the lab's hosts.")

        @OptionGroup var lab: LabOptions
        @Option var output: OutputFormat = .table

        func run() async throws {
            let hosts = try await lab.openLab().catalog.hosts()
            if output == .json { return try Printer.json(hosts) }
            Printer.table(["NAME", "URI", "POOL", "POOL PATH"],
                          hosts.map { [$0.name, $0.uri, $0.poolName, $0.poolPath] })
        }
    }
}
