import ArgumentParser
import SnaplabCore

extension ImageCommand {
    struct Register: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Register an image from a completed boot-volume snapshot (EC2 RegisterImage).")

        @OptionGroup var lab: LabOptions
        @Option(help: "The image's name.") var name: String
        @Option(help: "The boot-volume snapshot (snap-…).") var bootSnapshot: String
        @Option(help: "A description.") var description: String?
        @Option(
            name: .customLong("data-disk"),
            help:
                "A data disk: snap-… or a size (e.g. 1G), optionally :keep to survive termination; repeat (vdb, vdc, …)."
        )
        var dataDisks: [String] = []
        @Option(help: "Memory in MiB.") var memory = 256
        @Option(help: "Virtual CPUs.") var vcpus = 1
        @Option(help: "Boot this kernel instead of the one the snapshot recorded.") var kernel: String?
        @Option(help: "Boot this initramfs instead of the one the snapshot recorded.") var initrd: String?
        @Option(help: "Kernel command line (with --kernel).") var cmdline = "console=ttyS0 quiet panic=-1"
        @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.") var tags: [String] = []
        @Option var output: OutputFormat = .table

        func validate() throws {
            if (kernel == nil) != (initrd == nil) { throw ValidationError("give --kernel and --initrd together") }
            _ = try Self.parseDisks(dataDisks)
            _ = try TagParser.parse(tags)
        }

        static func parseDisks(_ specs: [String]) throws -> [ImageRegistration.DataDisk] {
            try specs.map { spec in
                var text = spec
                var keep = false
                if text.hasSuffix(":keep") {
                    keep = true
                    text.removeLast(":keep".count)
                }
                if text.hasPrefix("snap-") {
                    return ImageRegistration.DataDisk(snapshotId: text, deleteOnTermination: !keep)
                }
                let size = try validating { try ByteSize.parse(text) }
                return ImageRegistration.DataDisk(size: size, deleteOnTermination: !keep)
            }
        }

        func run() async throws {
            let override = kernel.map { BootSettings(kernel: $0, initrd: initrd ?? "", cmdline: cmdline) }
            let image = try await lab.openLab().images.register(
                ImageRegistration(
                    name: name, description: description, bootSnapshotId: bootSnapshot, bootOverride: override,
                    memoryMiB: memory, vcpus: vcpus, dataDisks: try Self.parseDisks(dataDisks),
                    tags: try TagParser.parse(tags)))
            if output == .json { return try Printer.json(image) }
            print(image.id)
        }
    }
}
