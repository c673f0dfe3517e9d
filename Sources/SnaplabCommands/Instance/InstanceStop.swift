import ArgumentParser

extension InstanceCommand {
    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Shut an instance down (guest agent, else ACPI); power it off after the timeout.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Flag(help: "Power off at once instead of asking the guest.") var force = false
        @Option(help: "Seconds to wait for a clean shutdown.") var timeout = 120

        func run() async throws {
            let instance = try await lab.openLab().instances.stop(id, force: force, timeout: .seconds(timeout))
            print("\(instance.id) \(instance.state.rawValue)\(instance.stateReason.map { " (\($0))" } ?? "")")
        }
    }
}
