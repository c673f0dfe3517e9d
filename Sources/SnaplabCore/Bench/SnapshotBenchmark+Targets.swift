import Foundation

extension SnapshotBenchmark {
    /// One goal of the data plane, checked in every run.
    public struct Target: Sendable, Codable {
        public var name: String
        /// The measured value in each run (a ratio, seconds or bytes, as `unit` says).
        public var values: [Double]
        public var goal: String
        public var unit: String
        /// Runs that met it.
        public var met: Int

        public var metInEveryRun: Bool { met == values.count }
    }

    /// The targets, from the runs (a target whose peer did not run is left out).
    public static func targets(_ runs: [Run]) -> [Target] {
        func target(_ name: String, goal: String, unit: String, _ value: (Run) -> Double?, _ ok: (Double) -> Bool)
            -> Target?
        {
            let values = runs.compactMap(value)
            guard values.count == runs.count, !values.isEmpty else { return nil }
            return Target(name: name, values: values, goal: goal, unit: unit, met: values.filter(ok).count)
        }
        func seconds(_ run: Run, _ tool: String, _ step: (ToolRun) -> Step?) -> Double? {
            run.tool(tool).flatMap(step)?.seconds
        }
        let mine = snaplab
        let restic = PeerTool.Kind.restic.rawValue
        let fixed = PeerTool.Kind.borgFixed.rawValue
        return [
            target(
                "full snapshot speed vs qemu-img convert", goal: "≥ ×0.5", unit: "×",
                { run in
                    seconds(run, mine, \.full).map { run.baselineSeconds / $0 }
                }
            ) { $0 >= 0.5 },
            target(
                "full snapshot speed vs restic", goal: "≥ ×4", unit: "×",
                { run in
                    zip2(seconds(run, restic, \.full), seconds(run, mine, \.full)).map { $0 / $1 }
                }
            ) { $0 >= 4 },
            target(
                "full snapshot speed vs borg fixed 64 KiB", goal: "≥ ×2", unit: "×",
                { run in
                    zip2(seconds(run, fixed, \.full), seconds(run, mine, \.full)).map { $0 / $1 }
                }
            ) { $0 >= 2 },
            target(
                "restore speed vs qemu-img convert", goal: "≥ ×0.5", unit: "×",
                { run in
                    seconds(run, mine, \.restore).map { run.baselineSeconds / $0 }
                }
            ) { $0 >= 0.5 },
            target(
                "restore speed vs restic", goal: "≥ ×2", unit: "×",
                { run in
                    zip2(seconds(run, restic, \.restore), seconds(run, mine, \.restore)).map { $0 / $1 }
                }
            ) { $0 >= 2 },
            target(
                "+1 % aligned: time / full snapshot time", goal: "≤ ×0.1", unit: "×",
                { run in
                    zip2(run.tool(mine)?.changes.first?.seconds, seconds(run, mine, \.full)).map { $0 / $1 }
                }
            ) { $0 <= 0.1 },
            target("+1 % aligned: time", goal: "≤ 1 s", unit: "s", { run in run.tool(mine)?.changes.first?.seconds }) {
                $0 <= 1
            },
            target(
                "+1 % aligned: stored / changed bytes", goal: "≤ ×1.1", unit: "×",
                { run in
                    run.tool(mine)?.changes.first?.storedBytes.map { Double($0) / Double(max(1, run.changes[0].bytes)) }
                }
            ) { $0 <= 1.1 },
            target(
                "restored volume equals the original (qemu-img compare)", goal: "yes", unit: "",
                { run in run.restoreVerified ? 1 : 0 }
            ) { $0 == 1 },
            target(
                "peak RSS of the snaplab process", goal: "≤ 150 MiB", unit: "MiB",
                { run in
                    run.tool(mine)?.peakResidentBytes.map { Double($0) / Double(1 << 20) }
                }
            ) { $0 <= 150 },
        ].compactMap { $0 }
    }
}

private func zip2(_ a: Double?, _ b: Double?) -> (Double, Double)? {
    guard let a, let b, b > 0 else { return nil }
    return (a, b)
}
