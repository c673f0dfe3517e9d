import ArgumentParser
import Foundation
import SnaplabCore

extension BenchCommand {
    struct Boot: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Boot the same OS from disks of several sizes and fills, with fsck skipped/auto/forced; where does the time go?",
            discussion:
                "Writes boot.csv (one row per boot), boot.json, boot.svg (and boot.png when rsvg-convert is installed) into --out."
        )

        @OptionGroup var lab: LabOptions
        @Option(help: "The image recipe.") var recipe = "images/tiny"
        @Option(name: .customLong("size"), help: "Boot disk sizes (repeat). Default: 256M 1G 4G 16G.") var sizes:
            [String] = []
        @Option(name: .customLong("fill"), help: "Fill levels in percent (repeat). Default: 0 50.") var fills: [Int] =
            []
        @Option(help: "Small files added to filled disks.") var smallFiles = 20_000
        @Option(name: .customLong("fsck"), help: "fsck modes (repeat). Default: skip auto force.") var modes:
            [FsckMode] = []
        @Option(
            name: .customLong("variant"),
            help: "A filesystem variant NAME=MKE2FS-OPTIONS (repeat), e.g. no-csum='-O ^metadata_csum'.")
        var variants: [String] = []
        @Option(help: "Boots per configuration.") var repeats = 3
        @Option(help: "Boot by direct, bios or uefi instead of the recipe's own way (fsck modes need direct).")
        var firmware: Firmware?
        @Flag(help: "Also boot each disk once lazily from a never-launched image (the first-launch column).")
        var lazyFirstLaunch = false
        @Option(help: "Where to write the CSV, JSON and plot.") var out = "boot-bench"

        func validate() throws {
            for size in sizes { _ = try validating { try ByteSize.parse(size) } }
            if fills.contains(where: { !(0...90).contains($0) }) { throw ValidationError("--fill must be 0–90") }
            if repeats < 1 { throw ValidationError("--repeats must be at least 1") }
            _ = try parsedVariants()
        }

        func parsedVariants() throws -> [BootSweep.Variant] {
            if variants.isEmpty { return [BootSweep.Variant(name: "default", mkfsOptions: "")] }
            return try variants.map { spec in
                let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
                guard let name = parts.first, !name.isEmpty else {
                    throw ValidationError("'\(spec)' is not NAME=OPTIONS")
                }
                return BootSweep.Variant(name: name, mkfsOptions: parts.count == 2 ? parts[1] : "")
            }
        }

        func run() async throws {
            var sweep = BootSweep(repeats: repeats)
            if !sizes.isEmpty { sweep.sizes = try sizes.map { try ByteSize.parse($0) } }
            if !fills.isEmpty { sweep.fills = fills }
            if !modes.isEmpty { sweep.modes = modes }
            sweep.smallFiles = smallFiles
            sweep.variants = try parsedVariants()
            sweep.firmware = firmware
            sweep.lazyFirstLaunch = lazyFirstLaunch
            let lab = try await lab.openLab()
            let bar = ProgressBar("boots")
            let records = try await BootBench(lab: lab).runSweep(
                sweep, recipe: try ImageRecipe(directory: URL(fileURLWithPath: recipe))
            ) {
                done, total, _ in bar.update(Double(done) / Double(max(1, total)) * 100)
            }
            bar.finish()
            try await BootResultsWriter.write(records, to: out)
        }
    }
}
