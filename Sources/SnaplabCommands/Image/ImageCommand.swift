import ArgumentParser
import SnaplabCore

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Machine images (registered from boot snapshots) and guest image recipes.",
        subcommands: [
            Build.self, Register.self, Import.self, CreateFromInstance.self, List.self, Describe.self, Deregister.self,
        ]
    )
}

extension ImageCommand {
    static let header = ["ID", "NAME", "STATE", "BOOT SNAPSHOT", "DATA DISKS", "MEMORY", "VCPUS", "CREATED"]

    static func row(_ image: MachineImage) -> [String] {
        [
            image.id, image.name, image.state.rawValue, image.bootSnapshotId,
            image.blockDeviceMappings.isEmpty
                ? "-"
                : image.blockDeviceMappings.map { mapping in
                    "\(mapping.device):\(mapping.snapshotId ?? ByteSize.format(mapping.size ?? 0))"
                }.joined(separator: ","),
            "\(image.memoryMiB) MiB", "\(image.vcpus)", Printer.date(image.createdAt),
        ]
    }
}
