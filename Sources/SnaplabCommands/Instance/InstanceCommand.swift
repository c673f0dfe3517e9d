import ArgumentParser
import SnaplabCore

struct InstanceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "instance",
        abstract: "Run, stop, start, terminate and inspect instances (libvirt domains).",
        subcommands: [
            Run.self, Stop.self, Start.self, Terminate.self, List.self, Describe.self, Console.self,
            Exec.self, SSH.self,
        ]
    )

    static let header = ["ID", "STATE", "MEMORY", "VCPUS", "FSCK", "LAUNCHED", "REASON"]

    static func row(_ instance: Instance) -> [String] {
        [
            instance.id, instance.state.rawValue, "\(instance.memoryMiB) MiB", "\(instance.vcpus)",
            instance.fsck.rawValue, Printer.date(instance.launchedAt), instance.stateReason ?? "-",
        ]
    }
}

extension FsckMode: ExpressibleByArgument {}
extension Firmware: ExpressibleByArgument {}
