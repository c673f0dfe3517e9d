import ArgumentParser

extension ImageCommand {
    struct Deregister: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Deregister an image; its snapshots stay (and can then be deleted).")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The image id (ami-…).") var id: String

        func run() async throws {
            let image = try await lab.openLab().images.deregister(id)
            print("\(image.id) \(image.state.rawValue)")
        }
    }
}
