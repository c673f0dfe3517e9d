import Foundation
import Logging
import ServiceLifecycle

/// `snaplab daemon`: runs due policies, prunes, collects garbage after prunes, runs configured drills, and
/// verifies a sample of the store now and then. On SIGTERM/SIGINT it finishes the run in progress and stops.
public struct PolicyDaemon: Service {
    public struct Settings: Sendable {
        /// How often the schedule is looked at.
        public var tick: Duration
        /// Fraction of chunks re-hashed by each periodic verify, and how often.
        public var verifySample: Double
        public var verifyEvery: Duration

        public init(
            tick: Duration = .seconds(1), verifySample: Double = 0.05, verifyEvery: Duration = .seconds(6 * 3600)
        ) {
            self.tick = tick
            self.verifySample = verifySample
            self.verifyEvery = verifyEvery
        }
    }

    let lab: Lab
    let clock: any PolicyClock
    let settings: Settings
    let logger: Logger

    public init(
        lab: Lab, clock: any PolicyClock = SystemPolicyClock(), settings: Settings = Settings(),
        logger: Logger = Logger(label: "snaplab.daemon")
    ) {
        self.lab = lab
        self.clock = clock
        self.settings = settings
        self.logger = logger
    }

    public func run() async throws {
        logger.info("daemon started", metadata: ["state": "\(lab.paths.stateDirectory.path)"])
        var lastVerify = ContinuousClock.now
        var successes: [String: Int] = [:]
        var heldAsCompliance = Set<String>()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                let runs = try await lab.policies.runDue(now: clock.now())
                for run in runs { log(run) }
                heldAsCompliance.formUnion(try await lab.snapshots.holdEndedCoolOffs(skipping: heldAsCompliance))
                let purged = try await lab.snapshots.purgeRecycleBin(at: clock.now())
                if !purged.isEmpty {
                    logger.info("recycle bin: retention ended", metadata: ["purged": "\(purged)"])
                }
                if !purged.isEmpty || runs.contains(where: { !$0.snapshotsPruned.isEmpty }) {
                    let report = try await lab.store.collectGarbage(timeout: .seconds(60))
                    logger.info(
                        "store gc",
                        metadata: ["reclaimed": "\(report.bytesReclaimed)", "removedChunks": "\(report.chunksRemoved)"])
                }
                for run in runs where run.state == .succeeded {
                    successes[run.policyId, default: 0] += 1
                    try await drillIfDue(run.policyId, successes: successes[run.policyId] ?? 0)
                }
                if ContinuousClock.now - lastVerify >= settings.verifyEvery {
                    lastVerify = ContinuousClock.now
                    let report = try await lab.store.verify(sample: settings.verifySample)
                    logger.log(
                        level: report.isClean ? .info : .error, "store verify (sample)",
                        metadata: [
                            "chunks": "\(report.checkedChunks)", "broken": "\(report.brokenSnapshots.keys.sorted())",
                        ])
                }
            } catch {
                logger.error("policy pass failed: \(error)")
            }
            let next = clock.now().addingTimeInterval(settings.tick.inSeconds)
            do {
                try await cancelWhenGracefulShutdown { try await clock.sleep(until: next) }
            } catch {
                break
            }
        }
        logger.info("daemon stopped")
    }

    private func drillIfDue(_ policyId: String, successes: Int) async throws {
        let policy = try await lab.policies.get(policyId)
        guard let drill = policy.drill, drill.every > 0, successes % drill.every == 0 else { return }
        let result = try await lab.policies.drill(policyId: policyId)
        logger.log(
            level: result.passed ? .info : .error, "restore drill",
            metadata: ["policy": "\(policyId)", "passed": "\(result.passed)", "error": "\(result.error ?? "-")"])
    }

    private func log(_ run: PolicyRun) {
        logger.log(
            level: run.state == .succeeded ? .info : .error, "policy run",
            metadata: [
                "policy": "\(run.policyId)", "slot": "\(run.slot)", "state": "\(run.state.rawValue)",
                "taken": "\(run.snapshotsTaken.count)", "pruned": "\(run.snapshotsPruned.count)",
                "errors": "\(run.errors)", "warnings": "\(run.warnings)",
            ])
    }
}
