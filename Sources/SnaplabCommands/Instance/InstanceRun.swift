import ArgumentParser
import SnaplabCore

extension InstanceCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Launch an instance from a boot volume and data volumes; returns once the guest is ready.")

        @OptionGroup var lab: LabOptions

        @Option(help: "The boot volume (vol-…).")
        var bootVolume: String

        @Option(name: .customLong("data-volume"),
                help: "A data volume, VOL or VOL:delete-on-termination; repeat for more (vdb, vdc, …).")
        var dataVolumes: [String] = []

        @Option(help: "Memory in MiB.") var memory = 256
        @Option(help: "Virtual CPUs.") var vcpus = 1
        @Option(help: "Boot-disk check in the initramfs: force, auto or skip.") var fsck: FsckMode = .auto

        @Option(help: "Boot this kernel instead of the boot volume's.") var kernel: String?
        @Option(help: "Boot this initramfs instead of the boot volume's.") var initrd: String?
        @Option(help: "Kernel command line (with --kernel).") var cmdline = "console=ttyS0 quiet panic=-1"

        @Flag(help: "Keep the boot volume when the instance is terminated.") var keepBootVolume = false
        @Option(help: "Seconds to wait for the guest to be ready.") var timeout = 300
        @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.") var tags: [String] = []
        @Option var output: OutputFormat = .table

        func validate() throws {
            if (kernel == nil) != (initrd == nil) { throw ValidationError("give --kernel and --initrd together") }
            _ = try Self.parseDataVolumes(dataVolumes)
            _ = try TagParser.parse(tags)
            if timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
        }

        static func parseDataVolumes(_ specs: [String]) throws -> [LaunchRequest.DataVolume] {
            try specs.map { spec in
                let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
                switch parts.count {
                case 1: return LaunchRequest.DataVolume(volumeId: parts[0])
                case 2 where parts[1] == "delete-on-termination":
                    return LaunchRequest.DataVolume(volumeId: parts[0], deleteOnTermination: true)
                default: throw ValidationError("'\(spec)' is not VOL or VOL:delete-on-termination")
                }
            }
        }

        func run() async throws {
            let override = kernel.map { BootSettings(kernel: $0, initrd: initrd ?? "", cmdline: cmdline) }
            let request = LaunchRequest(
                bootVolumeId: bootVolume, dataVolumes: try Self.parseDataVolumes(dataVolumes), memoryMiB: memory,
                vcpus: vcpus, fsck: fsck, bootOverride: override, deleteBootOnTermination: !keepBootVolume,
                tags: try TagParser.parse(tags), readyTimeout: .seconds(timeout))
            let instance = try await lab.openLab().runInstance(request)
            if output == .json { return try Printer.json(instance) }
            print(instance.id)
        }
    }
}
