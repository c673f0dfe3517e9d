import ArgumentParser
import SnaplabCore

extension PolicyCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a policy, e.g. --target-tag backup=hourly --every 1h --keep-hourly 24 --keep-daily 7.")

        @OptionGroup var lab: LabOptions
        @Option(help: "The policy's name.") var name: String
        @OptionGroup var settings: PolicySettingsOptions
        @Option var output: OutputFormat = .table

        func validate() throws {
            if settings.every == nil && settings.cron == nil {
                throw ValidationError("give a schedule: --every or --cron")
            }
            _ = try settings.tags()
            _ = try settings.schedule(default: nil)
            _ = try settings.retention(default: Retention())
        }

        func run() async throws {
            let schedule = try settings.schedule(default: nil) ?? PolicySchedule()
            let (policy, warnings) = try await lab.openLab().policies.create(
                PolicyRequest(
                    name: name, targetTags: try settings.tags(),
                    targetRoles: settings.targetRoles.isEmpty ? [.data] : settings.targetRoles,
                    targetInstances: settings.instances, schedule: schedule, freeze: !settings.noFreeze,
                    retention: try settings.retention(default: Retention()), drill: settings.drill(default: nil)))
            PolicyCommand.printWarnings(warnings)
            if output == .json { return try Printer.json(policy) }
            print(policy.id)
        }
    }
}
