import ArgumentParser

extension ImageCommand {
    struct CreateFromInstance: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "create-from-instance",
            abstract: "Snapshot every volume of an instance at one instant (frozen, no reboot) and register an image.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var instance: String
        @Option(help: "The image's name.") var name: String
        @Option(help: "A description.") var description: String?
        @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.") var tags: [String] = []
        @Option var output: OutputFormat = .table

        func validate() throws {
            _ = try TagParser.parse(tags)
        }

        func run() async throws {
            let image = try await lab.openLab().images.create(
                fromInstance: instance, name: name, description: description,
                tags: try TagParser.parse(tags))
            if output == .json { return try Printer.json(image) }
            print(image.id)
        }
    }
}
