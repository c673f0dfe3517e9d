import ArgumentParser

extension InstanceCommand {
    struct Terminate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove an instance and its boot volume; data volumes are kept unless told otherwise.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Flag(help: "Also delete every data volume attached to it.") var deleteDataVolumes = false
        @Flag(help: "Keep the boot volume.") var keepBootVolume = false

        func run() async throws {
            let instance = try await lab.openLab().instances.terminate(
                id, deleteDataVolumes: deleteDataVolumes, keepBootVolume: keepBootVolume)
            print("\(instance.id) \(instance.state.rawValue)")
        }
    }
}
