import ArgumentParser
import Foundation
import SnaplabCore

extension VolumeCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a volume: an empty data disk, or a boot disk built from an image recipe.")

        @OptionGroup var lab: LabOptions

        @Option(help: "boot or data.")
        var role: VolumeRole = .data

        @Option(help: "Size (e.g. 64M, 1G). Data volumes need it; boot volumes from a recipe default to 256M.")
        var size: String?

        @Option(help: "Fill a boot volume with the OS built by this image recipe (e.g. images/tiny).")
        var recipe: String?

        @Option(help: "Extra mke2fs options for a recipe's boot filesystem.")
        var mkfsOptions = ""

        @Option(
            name: .customLong("package"), help: "Another Debian package in a recipe's OS (repeat; images/debian-12).")
        var packages: [String] = []

        @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.")
        var tags: [String] = []

        @Option(help: "The host whose pool gets the volume (default: local).") var host: String?

        @Option var output: OutputFormat = .table

        func validate() throws {
            if let size { _ = try validating { try ByteSize.parse(size) } }
            if recipe != nil, role != .boot { throw ValidationError("--recipe makes a boot volume; add --role boot") }
            if recipe == nil, size == nil { throw ValidationError("give --size (or --recipe for a boot volume)") }
            if recipe == nil, !packages.isEmpty || !mkfsOptions.isEmpty {
                throw ValidationError("--package and --mkfs-options go with --recipe")
            }
            _ = try TagParser.parse(tags)
        }

        func run() async throws {
            let lab = try await lab.openLab()
            let tags = try TagParser.parse(tags)
            let volume: Volume
            if let recipe {
                let parameters = ImageRecipe.Parameters(
                    bootSize: try size.map(ByteSize.parse) ?? 256 << 20,
                    mkfsOptions: mkfsOptions, extraPackages: packages)
                let build = try await ImageRecipe(directory: URL(fileURLWithPath: recipe))
                    .build(parameters, cache: lab.paths.imageCache)
                volume = try await lab.volumes.createBoot(from: build, tags: tags, host: host)
            } else {
                volume = try await lab.volumes.create(
                    role: role, size: try ByteSize.parse(size ?? ""), tags: tags, host: host)
            }
            if output == .json { return try Printer.json(volume) }
            print(volume.id)
        }
    }
}

extension VolumeRole: ExpressibleByArgument {}
