import ArgumentParser

extension PolicyCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policies.")

        @OptionGroup var lab: LabOptions
        @Option var output: OutputFormat = .table

        func run() async throws {
            let policies = try await lab.openLab().policies.list()
            if output == .json { return try Printer.json(policies) }
            Printer.table(PolicyCommand.header, policies.map(PolicyCommand.row))
        }
    }

    struct Describe: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one policy and what it targets now.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The policy id (pol-…).") var id: String
        @Option var output: OutputFormat = .table

        func run() async throws {
            let lab = try await lab.openLab()
            let policy = try await lab.policies.get(id)
            if output == .json { return try Printer.json(policy) }
            Printer.table(PolicyCommand.header, [PolicyCommand.row(policy)])
            let targets = try await lab.policies.targets(of: policy)
            print(
                "\ntargets now: "
                    + (targets.isEmpty
                        ? "none" : (targets.volumes.map(\.id) + targets.instances.map(\.id)).joined(separator: " ")))
            print("freeze: \(policy.freeze ? "yes (fs-frozen, crash if the agent cannot)" : "no (crash-consistent)")")
            if let drill = policy.drill {
                print("drill: image \(drill.image), command \(drill.command ?? "-"), every \(drill.every) runs")
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a policy (its snapshots stay).")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The policy id (pol-…).") var id: String

        func run() async throws {
            try await lab.openLab().policies.delete(id)
            print("deleted \(id)")
        }
    }
}
