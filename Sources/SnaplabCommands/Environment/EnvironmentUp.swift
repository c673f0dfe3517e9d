import ArgumentParser
import Foundation
import SnaplabCore

/// `snaplab up -f lab.yaml`
struct EnvironmentUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Bring a test environment up from a lab.yaml: launch what it lacks, keep what it has.")

    @OptionGroup var lab: LabOptions
    @Option(name: .shortAndLong, help: "The environment file.") var file = "lab.yaml"
    @Option(help: "Seconds to wait for the instances to be ready.") var timeout = 600
    @Option var output: OutputFormat = .table

    func validate() throws {
        _ = try validating { try EnvironmentSpec.load(URL(fileURLWithPath: file)) }
    }

    func run() async throws {
        let spec = try EnvironmentSpec.load(URL(fileURLWithPath: file))
        let report = try await Environments(lab: try await lab.openLab()).up(spec, readyTimeout: .seconds(timeout))
        if output == .json { return try Printer.json(report) }
        print("environment \(spec.name): \(report.created.count) created, \(report.kept.count) already there")
        Printer.table(
            ["ID", "MEMBER", "STATE", ""],
            report.created.map { [$0.id, $0.tags["snaplab:member"] ?? "-", $0.state.rawValue, "created"] }
                + report.kept.map { [$0.id, $0.tags["snaplab:member"] ?? "-", $0.state.rawValue, "kept"] })
    }
}

/// `snaplab down -f lab.yaml`
struct EnvironmentDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Take a test environment down: terminate the instances (and data volumes) its lab.yaml created.")

    @OptionGroup var lab: LabOptions
    @Option(name: .shortAndLong, help: "The environment file.") var file = "lab.yaml"
    @Option var output: OutputFormat = .table

    func validate() throws {
        _ = try validating { try EnvironmentSpec.load(URL(fileURLWithPath: file)) }
    }

    func run() async throws {
        let spec = try EnvironmentSpec.load(URL(fileURLWithPath: file))
        let report = try await Environments(lab: try await lab.openLab()).down(spec)
        if output == .json { return try Printer.json(report) }
        print("environment \(spec.name): \(report.removed.count) terminated")
        for instance in report.removed { print("\(instance.id) \(instance.state.rawValue)") }
    }
}
