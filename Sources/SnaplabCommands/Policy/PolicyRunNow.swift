import ArgumentParser
import SnaplabCore

extension PolicyCommand {
    struct RunNow: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run-now", abstract: "Run a policy now (snapshot its targets, then prune).")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The policy id (pol-…).") var id: String
        @Option var output: OutputFormat = .table

        func run() async throws {
            guard let run = try await lab.openLab().policies.run(id) else {
                print("another process is running \(id) for this second; nothing done")
                return
            }
            if output == .json { return try Printer.json(run) }
            History.show([run])
            if run.state != .succeeded { throw ExitCode(ExitStatus.for(.io)) }
        }
    }

    struct History: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "A policy's runs and drills.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The policy id (pol-…).") var id: String
        @Option var output: OutputFormat = .table

        static func show(_ runs: [PolicyRun]) {
            Printer.table(
                ["SLOT", "STATE", "ATTEMPT", "STARTED", "ENDED", "TAKEN", "PRUNED", "ERRORS / WARNINGS"],
                runs.map { run in
                    [
                        Printer.date(run.slot), run.state.rawValue, "\(run.attempt)", Printer.date(run.startedAt),
                        Printer.date(run.endedAt), "\(run.snapshotsTaken.count)", "\(run.snapshotsPruned.count)",
                        (run.errors + run.warnings.map { "warning: \($0)" }).joined(separator: "; "),
                    ]
                })
        }

        func run() async throws {
            let lab = try await lab.openLab()
            let runs = try await lab.policies.history(id)
            let drills = try await lab.policies.drills(of: id)
            if output == .json {
                struct Combined: Encodable {
                    var runs: [PolicyRun]
                    var drills: [DrillResult]
                }
                return try Printer.json(Combined(runs: runs, drills: drills))
            }
            Self.show(runs)
            if !drills.isEmpty {
                print("")
                Printer.table(
                    ["DRILL", "RESULT", "INSTANCE", "TARGETS", "ERROR"],
                    drills.map { drill in
                        [
                            Printer.date(drill.startedAt), drill.passed ? "passed" : "FAILED", drill.instanceId ?? "-",
                            drill.targets.map {
                                "\($0.snapshotId) fsck=\($0.filesystemCheck.map(String.init) ?? "-") cmd=\($0.commandStatus.map(String.init) ?? "-")"
                            }
                            .joined(separator: "; "), drill.error ?? "-",
                        ]
                    })
            }
        }
    }
}
