import ArgumentParser
import SnaplabCore

struct VolumeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "volume",
        abstract: "Create, list, describe and delete qcow2 volumes.",
        subcommands: [Create.self, List.self, Describe.self, Delete.self]
    )

    static func rows(_ volumes: [Volume]) -> [[String]] {
        volumes.map { volume in
            [
                volume.id, volume.role.rawValue, ByteSize.format(volume.size), volume.state.rawValue,
                volume.instanceId.map { "\($0):\(volume.device ?? "?")" } ?? "-", Printer.tags(volume.tags),
            ]
        }
    }

    static let header = ["ID", "ROLE", "SIZE", "STATE", "ATTACHED", "TAGS"]
}
