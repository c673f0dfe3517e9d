import ArgumentParser
import Foundation
import SnaplabCore

extension ImageCommand {
    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a qcow2 or raw disk image as a machine image (EC2 ImportImage).",
            discussion: """
                The file is checked first: its format is always the one named (never probed), qemu-img runs under \
                prlimit, and a qcow2 naming a backing file or an external data file is refused (it could read any \
                file of the host). It is converted to a fresh qcow2, snapshotted into the store and registered; \
                instances boot it by its own loader (--firmware uefi or bios) or with the kernel and initramfs \
                given here (direct; with uefi or bios they are kept so that `instance run --firmware direct` can \
                use them).
                """)

        @OptionGroup var lab: LabOptions
        @Argument(help: "The disk image file.") var file: String
        @Option(help: "The image's name.") var name: String
        @Option(help: "The file's format: qcow2 or raw.") var format: String
        @Option(help: "How its instances boot: direct (needs --kernel and --initrd), bios or uefi.")
        var firmware: Firmware = .direct
        @Option(help: "The kernel to boot it with.") var kernel: String?
        @Option(help: "The initramfs to boot it with.") var initrd: String?
        @Option(help: "Kernel command line.") var cmdline = "console=ttyS0 quiet panic=-1"
        @Option(help: "A description.") var description: String?
        @Option(help: "Memory in MiB.") var memory = 256
        @Option(help: "Virtual CPUs.") var vcpus = 1
        @Option(help: "The host whose pool converts it (default: local).") var host: String?
        @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.") var tags: [String] = []
        @Option var output: OutputFormat = .table

        func validate() throws {
            if !["qcow2", "raw"].contains(format) { throw ValidationError("--format must be qcow2 or raw") }
            if (kernel == nil) != (initrd == nil) { throw ValidationError("give --kernel and --initrd together") }
            if firmware == .direct, kernel == nil {
                throw ValidationError("direct boot needs --kernel and --initrd; or say --firmware uefi|bios")
            }
            _ = try TagParser.parse(tags)
        }

        func run() async throws {
            let image = try await lab.openLab().images.importImage(
                ImageImportRequest(
                    file: URL(fileURLWithPath: file), format: format, name: name, description: description,
                    boot: BootSettings(
                        kernel: kernel ?? "", initrd: initrd ?? "", cmdline: kernel == nil ? "" : cmdline,
                        firmware: firmware),
                    memoryMiB: memory,
                    vcpus: vcpus, tags: try TagParser.parse(tags)),
                host: host)
            if output == .json { return try Printer.json(image) }
            print(image.id)
        }
    }
}
