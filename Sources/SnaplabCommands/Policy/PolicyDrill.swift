import ArgumentParser
import SnaplabCore

extension PolicyCommand {
    struct Drill: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Restore the newest snapshots into throw-away volumes, boot them with a fresh instance, check them.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The policy id (pol-…).") var id: String
        @Option(help: "Boot this image (default: the policy's drill image).") var image: String?
        @Option(help: "Run this command in /data; it must exit 0.") var command: String?
        @Option var output: OutputFormat = .table

        func run() async throws {
            let override = image.map { DrillSettings(image: $0, command: command) }
            let result = try await lab.openLab().policies.drill(policyId: id, settings: override)
            if output == .json {
                try Printer.json(result)
            } else {
                print("drill \(result.passed ? "passed" : "FAILED")\(result.error.map { ": \($0)" } ?? "")")
                for target in result.targets {
                    print(
                        "  \(target.volumeId) from \(target.snapshotId): e2fsck \(target.filesystemCheck.map(String.init) ?? "-"), command \(target.commandStatus.map(String.init) ?? "-")"
                    )
                }
            }
            if !result.passed { throw ExitCode(ExitStatus.for(.guest)) }
        }
    }
}
