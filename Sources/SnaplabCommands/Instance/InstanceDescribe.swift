import ArgumentParser
import SnaplabCore

extension InstanceCommand {
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one instance, its volumes and its latest boot's phases.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Option var output: OutputFormat = .table

        func run() async throws {
            let opened = try await lab.openLab()
            try await opened.lazy.resumeUnfinished()
            let description = try await opened.instances.describe(id)
            if output == .json { return try Printer.json(description) }
            let instance = description.instance
            Printer.table(InstanceCommand.header, [InstanceCommand.row(instance)])
            let boot =
                instance.boot.isDirect
                ? "direct \(instance.boot.kernel)\n      \(instance.boot.cmdline)" : instance.boot.bootFirmware.rawValue
            let ssh = instance.sshPort.map { "\nssh: 127.0.0.1:\($0) (snaplab instance ssh \(instance.id))" } ?? ""
            print("\nboot: \(boot)\(ssh)\nconsole: \(instance.consolePath)\n")
            Printer.table(VolumeCommand.header, VolumeCommand.rows(description.volumes))
            if !description.hydrations.isEmpty {
                print("")
                Printer.table(
                    ["DEVICE", "VOLUME", "HYDRATING FROM", "STATE", "DONE", "REASON"],
                    description.hydrations.map { hydration in
                        [
                            hydration.device ?? "-", hydration.volumeId, hydration.snapshotId,
                            hydration.state.rawValue, String(format: "%.0f %%", hydration.percent),
                            hydration.reason ?? "",
                        ]
                    })
            }
            if !description.bootMarkers.isEmpty {
                print("")
                Printer.table(
                    ["PHASE", "UPTIME", "DETAILS"],
                    description.bootMarkers.map { marker in
                        [
                            marker.phase, String(format: "%.2f s", marker.uptime),
                            marker.fields.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                                separator: " "),
                        ]
                    })
            }
        }
    }
}
