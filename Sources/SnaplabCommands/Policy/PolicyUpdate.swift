import ArgumentParser
import SnaplabCore

extension PolicyCommand {
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a policy's target, schedule, retention or drill.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The policy id (pol-…).") var id: String
        @Option(help: "A new name.") var name: String?
        @Flag(inversion: .prefixedEnableDisable, help: "Enable or disable the policy.") var enabled: Bool?
        @OptionGroup var settings: PolicySettingsOptions
        @Option var output: OutputFormat = .table

        func run() async throws {
            let lab = try await lab.openLab()
            var policy = try await lab.policies.get(id)
            if let name { policy.name = name }
            if let enabled { policy.enabled = enabled }
            if !settings.targetTags.isEmpty { policy.targetTags = try settings.tags() }
            if !settings.targetRoles.isEmpty { policy.targetRoles = settings.targetRoles }
            if settings.instances { policy.targetInstances = true }
            if settings.noFreeze { policy.freeze = false }
            policy.schedule = try settings.schedule(default: policy.schedule) ?? policy.schedule
            policy.retention = try settings.retention(default: policy.retention)
            policy.drill = settings.drill(default: policy.drill)
            let (updated, warnings) = try await lab.policies.update(policy)
            PolicyCommand.printWarnings(warnings)
            if output == .json { return try Printer.json(updated) }
            Printer.table(PolicyCommand.header, [PolicyCommand.row(updated)])
        }
    }
}
