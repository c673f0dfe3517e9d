import ArgumentParser

extension InstanceCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List instances.")

        @OptionGroup var lab: LabOptions
        @Flag(help: "Include terminated instances.") var all = false
        @Option var output: OutputFormat = .table

        func run() async throws {
            let opened = try await lab.openLab()
            try await opened.lazy.resumeUnfinished()
            let instances = try await opened.instances.list().filter { all || $0.state != .terminated }
            if output == .json { return try Printer.json(instances) }
            Printer.table(InstanceCommand.header, instances.map(InstanceCommand.row))
        }
    }
}
