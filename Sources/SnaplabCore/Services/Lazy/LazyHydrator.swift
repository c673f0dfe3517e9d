import Foundation
import Logging
import Synchronization

/// Completes the lab's lazy volumes, inside the export service that serves them: four times a second it looks for
/// lazy volumes on this machine's hosts, hydrates each snapshot's base once (all lazy volumes of a snapshot
/// share it), moves every volume onto it, and resumes guests that their lazy disk paused on an I/O error (the
/// export service was gone, and is back). A failure marks the volumes `degraded` with the reason and is retried;
/// a restarted service takes over whatever is unfinished.
final class LazyHydrator: Sendable {
    static let retryAfter = Duration.seconds(10)
    /// How often it looks: a lazy launch's hydration starts within this of the launch.
    static let pass = Duration.milliseconds(250)

    private let lab: Lab
    private let logger = Logger(label: "snaplab.lazy")
    private struct State {
        var stopped = false
        var working: Set<String> = []
        var pending = 0
        var retryAt: [String: ContinuousClock.Instant] = [:]
    }
    private let state = Mutex(State())

    init(lab: Lab) {
        self.lab = lab
    }

    /// True when no lazy volume is left to complete (checked on each pass).
    var isIdle: Bool { state.withLock { $0.pending == 0 && $0.working.isEmpty } }

    func stop() { state.withLock { $0.stopped = true } }

    func run() async {
        await withDiscardingTaskGroup { group in
            while !state.withLock({ $0.stopped }) && !Task.isCancelled {
                for (key, volumes) in await pendingWork() {
                    let start = state.withLock { state -> Bool in
                        guard !state.working.contains(key), (state.retryAt[key] ?? .now) <= .now else { return false }
                        state.working.insert(key)
                        return true
                    }
                    guard start else { continue }
                    group.addTask {
                        let ok = await self.hydrate(volumes)
                        self.state.withLock { state in
                            state.working.remove(key)
                            state.retryAt[key] = ok ? nil : .now + Self.retryAfter
                        }
                    }
                }
                try? await Task.sleep(for: Self.pass)
            }
            // Stopping does not wait for a hydration: it is cancelled (its partial base removed) and the next
            // service starts it again.
            group.cancelAll()
        }
    }

    /// Lazy volumes on hosts this machine serves, by snapshot and host; resumes their paused guests.
    private func pendingWork() async -> [String: [Volume]] {
        guard let lazy = try? await lab.catalog.lazyVolumes() else { return [:] }
        var hosts: [String: Host] = [:]
        var work: [String: [Volume]] = [:]
        for volume in lazy {
            if hosts[volume.host] == nil { hosts[volume.host] = try? await lab.catalog.host(named: volume.host) }
            guard let host = hosts[volume.host], LazyVolumes.canServe(host), let source = volume.lazy else { continue }
            work["\(source.snapshotId)@\(host.name)", default: []].append(volume)
            if let instanceId = volume.instanceId { await resumeIfPaused(instanceId, host: host) }
        }
        state.withLock { $0.pending = work.count }
        return work
    }

    private func resumeIfPaused(_ instanceId: String, host: Host) async {
        guard let hypervisor = try? await lab.hosts.hypervisor(for: host),
            (try? await hypervisor.resumeIfPausedOnIOError(domain: instanceId)) == true
        else { return }
        logger.notice(
            "resumed an instance its lazy disk paused on an I/O error", metadata: ["instance": "\(instanceId)"])
    }

    /// Hydrates the snapshot's base and moves every lazy volume of it onto the base; false on a failure.
    private func hydrate(_ volumes: [Volume]) async -> Bool {
        guard let first = volumes.first, let source = first.lazy,
            let host = try? await lab.catalog.host(named: first.host)
        else { return true }
        let pullRate = volumes.compactMap { $0.lazy?.pullRate }.min()
        for volume in volumes where volume.lazy?.state == .degraded {
            try? await lab.catalog.setLazyState(volume.id, .pulling, reason: nil)
        }
        do throws(SnaplabError) {
            let base = try await lab.bases.ensure(snapshotId: source.snapshotId, host: host, pullRate: pullRate)
            for volume in volumes {
                try await lab.lazy.complete(volume.id, onto: base)
            }
            return true
        } catch {
            logger.error(
                "a lazy volume could not be completed; retrying",
                metadata: ["snapshot": "\(source.snapshotId)", "error": "\(error.message)"])
            for volume in volumes {
                await logger.bestEffort("marking \(volume.id) degraded") {
                    try await lab.catalog.setLazyState(volume.id, .degraded, reason: error.message)
                }
            }
            return false
        }
    }
}
