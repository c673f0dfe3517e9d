import ArgumentParser
import Foundation
import SnaplabCore

extension ImageCommand {
    struct Build: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Build a guest image (kernel, initramfs, ext4 boot volume) from a recipe; cached.")

        @OptionGroup var lab: LabOptions

        @Argument(help: "The recipe directory, e.g. images/tiny.")
        var recipe: String

        @Option(help: "Boot volume size (e.g. 256M, 1G).")
        var size = "256M"

        @Option(help: "Extra mke2fs options for the boot filesystem.")
        var mkfsOptions = ""

        @Option(name: .customLong("package"), help: "Another Debian package to install (repeat; images/debian-12).")
        var packages: [String] = []

        @Option var output: OutputFormat = .table

        func validate() throws {
            _ = try validating { try ByteSize.parse(size) }
        }

        func run() async throws {
            let recipe = try ImageRecipe(directory: URL(fileURLWithPath: recipe))
            let parameters = ImageRecipe.Parameters(
                bootSize: try ByteSize.parse(size), mkfsOptions: mkfsOptions, extraPackages: packages)
            let build = try await recipe.build(parameters, cache: lab.paths.imageCache)
            if output == .json {
                return try Printer.json([
                    "directory": build.directory.path, "kernel": build.kernel.path,
                    "initrd": build.initrd.path, "bootImage": build.bootImage.path,
                    "kernelVersion": build.kernelVersion, "cmdline": build.cmdline,
                ])
            }
            print("image \(build.directory.path)")
            print("  kernel \(build.kernelVersion): \(build.kernel.path)")
            print("  initrd: \(build.initrd.path)")
            print("  boot volume: \(build.bootImage.path)")
        }
    }
}
