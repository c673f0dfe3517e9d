import ArgumentParser
import SnaplabCore

extension ImageCommand {
    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one machine image.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The image id (ami-…) or name.") var image: String
        @Option var output: OutputFormat = .table

        func run() async throws {
            let image = try await lab.openLab().images.resolve(image)
            if output == .json { return try Printer.json(image) }
            Printer.table(
                ["FIELD", "VALUE"],
                [
                    ["id", image.id], ["name", image.name], ["state", image.state.rawValue],
                    ["description", image.description ?? "-"], ["boot snapshot", image.bootSnapshotId],
                    ["kernel", "sha256:\(image.kernelDigest)"], ["initrd", "sha256:\(image.initrdDigest)"],
                    ["cmdline", image.cmdline], ["memory", "\(image.memoryMiB) MiB"], ["vcpus", "\(image.vcpus)"],
                    ["source instance", image.sourceInstanceId ?? "-"], ["created", Printer.date(image.createdAt)],
                    ["tags", Printer.tags(image.tags)],
                ]
                    + image.blockDeviceMappings.map { mapping in
                        [
                            "data disk \(mapping.device)",
                            (mapping.snapshotId ?? "empty") + " \(ByteSize.format(mapping.size ?? 0))"
                                + (mapping.deleteOnTermination ? "" : ", kept on termination"),
                        ]
                    })
        }
    }
}
