import ArgumentParser
import Logging
import ServiceLifecycle
import SnaplabCore
import SnaplabServer

struct DaemonCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "daemon",
        abstract: "Run policies on schedule, prune, collect garbage, drill and verify; stops cleanly on SIGTERM/SIGINT."
    )

    @OptionGroup var lab: LabOptions
    @Option(help: "Seconds between looks at the schedule.") var tick = 1
    @Option(help: "Fraction of chunks each periodic verify re-hashes.") var verifySample = 0.05
    @Option(help: "Seconds between periodic verifies.") var verifyEvery = 21_600
    @Flag(help: "Also serve the API and control screen (see `snaplab serve`).") var serve = false
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        let opened = try await lab.openLab(longRunning: true)
        let logger = Logger(label: "snaplab.daemon")
        let daemon = PolicyDaemon(
            lab: opened,
            settings: PolicyDaemon.Settings(
                tick: .seconds(tick), verifySample: verifySample,
                verifyEvery: .seconds(verifyEvery)),
            logger: logger)
        // Shut down in reverse order: server, then the scheduler, then the background work both started.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [
            .init(service: opened.background), .init(service: ExportServiceRunner(lab: opened)), .init(service: daemon),
        ]
        if serve {
            services.append(
                .init(service: try SnaplabServer.buildApplication(lab: opened, configuration: listen.configuration)))
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}
