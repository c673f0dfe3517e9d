import ArgumentParser
import Foundation
import SnaplabCore

extension HostCommand {
    struct Evacuate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Relaunch a lost host's instances on another host from their latest snapshots.",
            discussion: """
                A host whose libvirt answers has the instances' domains destroyed first (fenced); one that does not \
                answer may still run them, so evacuating it needs --force: power it off first. Each relaunch says \
                what it lost (the time since the snapshot it came back from); the old instance is terminated and \
                its volumes on the lost host are tagged snaplab:stale.
                """)

        @OptionGroup var lab: LabOptions
        @Argument(help: "The lost host.") var name: String
        @Option(help: "The host to relaunch on. Default: the first other host.") var to: String?
        @Flag(help: "Relaunch although the host does not answer (you made sure its instances are gone).")
        var force = false
        @Option(help: "table or json.") var output: OutputFormat = .table

        func run() async throws {
            let report = try await HostEvacuation(lab: try await lab.openLab()).evacuate(name, to: to, force: force)
            if output == .json { return try Printer.json(report) }
            print("host \(report.host): \(report.fencing)")
            for relaunch in report.relaunches {
                if let error = relaunch.error {
                    print("\(relaunch.instanceId): not relaunched: \(error)")
                    continue
                }
                let lost = relaunch.lostSeconds.map { String(format: "lost %.0f s", $0) } ?? "nothing snapshotted"
                let sources = relaunch.sources.sorted { $0.key < $1.key }.map { "\($0.key) from \($0.value)" }
                print(
                    "\(relaunch.instanceId) → \(relaunch.newInstanceId ?? "?"): \(lost) (\(sources.joined(separator: ", ")))"
                )
            }
            if report.relaunches.contains(where: { $0.error != nil }) { throw ExitCode(1) }
        }
    }
}
