import ArgumentParser
import Foundation
import SnaplabCore

/// `snaplab recycle-bin …`: the rules that send deleted snapshots to the bin, and purging what outlived them.
struct RecycleBinCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recycle-bin",
        abstract: "Rules that keep deleted snapshots recoverable for a while (EBS Recycle Bin).",
        discussion:
            "`snapshot list --recycle-bin` shows the bin, `snapshot recover` takes one back; `store gc` and the daemon delete what is past its retention.",
        subcommands: [CreateRule.self, Rules.self, DeleteRule.self, Purge.self])

    struct CreateRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Keep deleted snapshots with any of the tags (all snapshots without --tag) for N days.")
        @OptionGroup var lab: LabOptions
        @Option(help: "Days a deleted snapshot stays recoverable (1–365).") var retentionDays: Int
        @Option(name: .customLong("tag"), help: "KEY=VALUE (repeatable); a snapshot with any of them matches.")
        var tags: [String] = []
        @Option(help: "What the rule is for.") var description: String?

        func run() async throws {
            var resourceTags: [String: String] = [:]
            for tag in tags {
                let parts = tag.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, !parts[0].isEmpty else {
                    throw ValidationError("--tag \(tag) is not KEY=VALUE")
                }
                resourceTags[parts[0]] = parts[1]
            }
            let rule = try await lab.openLab().snapshots.createRecycleBinRule(
                RecycleBinRule(retentionDays: retentionDays, resourceTags: resourceTags, description: description))
            print(rule.id)
        }
    }

    struct Rules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "rules", abstract: "List the rules.")
        @OptionGroup var lab: LabOptions
        @Option var output: OutputFormat = .table

        func run() async throws {
            let rules = try await lab.openLab().snapshots.recycleBinRules()
            if output == .json { return try Printer.json(rules) }
            Printer.table(
                ["ID", "RETENTION", "TAGS", "DESCRIPTION"],
                rules.map { rule in
                    [
                        rule.id, "\(rule.retentionDays) d",
                        rule.resourceTags.isEmpty
                            ? "(every snapshot)"
                            : rule.resourceTags.sorted { $0.key < $1.key }.map { "\($0)=\($1)" }.joined(separator: " "),
                        rule.description ?? "",
                    ]
                })
        }
    }

    struct DeleteRule: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a rule (what is in the bin stays until its retention ends).")
        @OptionGroup var lab: LabOptions
        @Argument(help: "The rule id (rbin-…).") var id: String

        func run() async throws {
            try await lab.openLab().snapshots.deleteRecycleBinRule(id)
            print("deleted \(id)")
        }
    }

    struct Purge: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete for good what the bin holds past its retention (`store gc` does it too).")
        @OptionGroup var lab: LabOptions

        func run() async throws {
            let purged = try await lab.openLab().snapshots.purgeRecycleBin()
            print(
                purged.isEmpty ? "nothing in the bin is past its retention" : "deleted \(purged.joined(separator: " "))"
            )
        }
    }
}
