import ArgumentParser
import Foundation
import SnaplabCore

struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy",
        abstract: "Backup policies: what to snapshot, when, and how long to keep it.",
        subcommands: [
            Create.self, List.self, Describe.self, Update.self, Delete.self, RunNow.self, History.self,
            Drill.self,
        ]
    )

    static let header = ["ID", "NAME", "TARGET", "SCHEDULE", "RETENTION", "ENABLED"]

    static func row(_ policy: Policy) -> [String] {
        [
            policy.id, policy.name,
            (policy.targetInstances ? "instances " : "") + Printer.tags(policy.targetTags)
                + (policy.targetInstances ? "" : " (\(policy.targetRoles.map(\.rawValue).joined(separator: ",")))"),
            policy.schedule.summary, retentionSummary(policy.retention), policy.enabled ? "yes" : "no",
        ]
    }

    static func retentionSummary(_ retention: Retention) -> String {
        let parts = [
            ("last", retention.keepLast), ("within \(retention.keepWithin)s", retention.keepWithin > 0 ? 1 : 0),
            ("hourly", retention.keepHourly), ("daily", retention.keepDaily), ("weekly", retention.keepWeekly),
            ("monthly", retention.keepMonthly),
        ]
        return parts.filter { $0.1 > 0 }.map { $0.0.hasPrefix("within") ? $0.0 : "\($0.0) \($0.1)" }.joined(
            separator: ", ")
    }

    static func printWarnings(_ warnings: [String]) {
        for warning in warnings { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
    }
}

/// Schedule, retention and target options shared by `create` and `update`.
struct PolicySettingsOptions: ParsableArguments {
    @Option(
        name: .customLong("target-tag"),
        help: "Snapshot volumes (or instances) with this tag, KEY=VALUE; repeat to require several.")
    var targetTags: [String] = []
    @Option(name: .customLong("target-role"), help: "Volume roles to take: data, boot (repeat). Default: data.")
    var targetRoles: [VolumeRole] = []
    @Flag(help: "Target whole instances (snapshot sets) instead of volumes.") var instances = false
    @Option(help: "Run every this long, e.g. 3600, 30s, 15m, 1h, 1d.") var every: String?
    @Option(help: "Run on a cron expression (minute hour day month weekday), e.g. '0 * * * *'.") var cron: String?
    @Option(help: "The cron expression's time zone (and of daily/weekly/monthly retention).") var timeZone: String?
    @Flag(help: "Crash-consistent snapshots (do not freeze filesystems).") var noFreeze = false
    @Option(help: "Keep the N newest.") var keepLast: Int?
    @Option(help: "Keep everything younger than this (e.g. 2d, 12h).") var keepWithin: String?
    @Option(help: "Keep the newest of each of the last N hours.") var keepHourly: Int?
    @Option(help: "Keep the newest of each of the last N days.") var keepDaily: Int?
    @Option(help: "Keep the newest of each of the last N weeks.") var keepWeekly: Int?
    @Option(help: "Keep the newest of each of the last N months.") var keepMonthly: Int?
    @Option(help: "Restore drills boot this image (id or name).") var drillImage: String?
    @Option(help: "…and run this command in /data, which must exit 0.") var drillCommand: String?
    @Option(help: "…after every N successful runs (0: only `policy drill`).") var drillEvery: Int?

    static func seconds(_ text: String) throws -> Int {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800]
        if let value = Int(text) { return value }
        guard let unit = text.last, let multiplier = units[unit], let value = Int(text.dropLast()), value > 0 else {
            throw ValidationError("'\(text)' is not a duration; use seconds or a number with s, m, h, d or w")
        }
        return value * multiplier
    }

    func tags() throws -> [String: String] { try TagParser.parse(targetTags) }

    func schedule(default current: PolicySchedule?) throws -> PolicySchedule? {
        if every != nil && cron != nil { throw ValidationError("give --every or --cron, not both") }
        let zone = timeZone ?? current?.timeZone ?? "UTC"
        if let every { return PolicySchedule(intervalSeconds: try Self.seconds(every), timeZone: zone) }
        if let cron { return PolicySchedule(cron: cron, timeZone: zone) }
        guard var current else { return nil }
        current.timeZone = zone
        return current
    }

    func retention(default current: Retention) throws -> Retention {
        Retention(
            keepLast: keepLast ?? current.keepLast,
            keepWithin: try keepWithin.map(Self.seconds) ?? current.keepWithin,
            keepHourly: keepHourly ?? current.keepHourly, keepDaily: keepDaily ?? current.keepDaily,
            keepWeekly: keepWeekly ?? current.keepWeekly, keepMonthly: keepMonthly ?? current.keepMonthly)
    }

    func drill(default current: DrillSettings?) -> DrillSettings? {
        guard let image = drillImage ?? current?.image else { return nil }
        return DrillSettings(
            image: image, command: drillCommand ?? current?.command, every: drillEvery ?? current?.every ?? 0)
    }
}
