import ArgumentParser

extension InstanceCommand {
    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Boot a stopped instance; returns once the guest is ready.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Option(help: "Seconds to wait for the guest to be ready.") var timeout = 300

        func run() async throws {
            let instance = try await lab.openLab().instances.start(id, readyTimeout: .seconds(timeout))
            print("\(instance.id) \(instance.state.rawValue)")
        }
    }
}
