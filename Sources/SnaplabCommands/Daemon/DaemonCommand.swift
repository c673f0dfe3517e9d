import ArgumentParser
import Logging
import ServiceLifecycle
import SnaplabCore

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run policies on schedule, prune, collect garbage, drill and verify; stops cleanly on SIGTERM/SIGINT.")

    @OptionGroup var lab: LabOptions
    @Option(help: "Seconds between looks at the schedule.") var tick = 1
    @Option(help: "Fraction of chunks each periodic verify re-hashes.") var verifySample = 0.05
    @Option(help: "Seconds between periodic verifies.") var verifyEvery = 21_600

    func run() async throws {
        let logger = Logger(label: "snaplab.daemon")
        let daemon = PolicyDaemon(
            lab: try await lab.openLab(),
            settings: PolicyDaemon.Settings(tick: .seconds(tick), verifySample: verifySample,
                                            verifyEvery: .seconds(verifyEvery)),
            logger: logger)
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: [.init(service: daemon)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
