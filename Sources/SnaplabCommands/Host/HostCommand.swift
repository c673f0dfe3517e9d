import ArgumentParser

struct HostCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Prepare and inspect the libvirt hosts of the lab.",
        subcommands: [Init.self, Add.self, List.self, Evacuate.self]
    )
}
