import ArgumentParser
import SnaplabCore

extension VolumeCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a volume that is not attached to an instance.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The volume id (vol-…).") var id: String

        func run() async throws {
            try await lab.openLab().volumes.delete(id)
            print("deleted \(id)")
        }
    }
}
