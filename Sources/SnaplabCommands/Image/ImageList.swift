import ArgumentParser

extension ImageCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List machine images.")

        @OptionGroup var lab: LabOptions
        @Flag(help: "Include deregistered images.") var all = false
        @Option var output: OutputFormat = .table

        func run() async throws {
            let images = try await lab.openLab().images.list().filter { all || $0.state == .available }
            if output == .json { return try Printer.json(images) }
            Printer.table(ImageCommand.header, images.map(ImageCommand.row))
        }
    }
}
