import Foundation
import Libvirt

extension InstanceService {
    /// Waits for the guest's `ready` marker after `logOffset`; marks the instance running, or, if the domain
    /// stops or the time runs out, powers it off, marks it stopped and throws with the console's tail.
    func awaitBoot(
        _ instance: Instance, hypervisor: Hypervisor, events: AsyncStream<DomainEvent>,
        logOffset: UInt64, timeout: Duration
    ) async throws(SnaplabError) -> Instance {
        let console = ConsoleLog(path: instance.consolePath)
        let domainName = instance.domainName
        do {
            try await withDeadline(
                timeout,
                onTimeout: {
                    SnaplabError(
                        .timeout,
                        "instance \(instance.id) did not print `ready` nor answer through its guest agent within \(timeout). Console tail:\n\(console.tail(from: logOffset))"
                    )
                }
            ) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await event in events where event.domainName == domainName {
                            if event.kind == .stopped || event.kind == .crashed {
                                throw SnaplabError(
                                    .guest,
                                    "instance \(instance.id) stopped while booting (\(event.kind), detail \(event.detail)). Console tail:\n\(console.tail(from: logOffset))"
                                )
                            }
                        }
                    }
                    group.addTask {
                        // The marker lands in the file qemu writes the serial console to.
                        try await ConsoleFollower(path: console.path, from: logOffset).waitForMarker("ready")
                    }
                    group.addTask {
                        // Or the guest agent answers: what every image (and a remote host's guest) gives.
                        let agent = GuestAgent(hypervisor: hypervisor, domain: domainName)
                        while !(await agent.answers()) {
                            try await Task.sleep(for: .milliseconds(500))
                        }
                    }
                    defer { group.cancelAll() }
                    try await group.next()
                }
            }
        } catch {
            let failure =
                error as? SnaplabError
                ?? SnaplabError(.internal, "waiting for \(instance.id) failed", cause: error)
            await logger.bestEffort("hypervisor.destroyDomain") { try await hypervisor.destroyDomain(name: domainName) }
            await logger.bestEffort("catalog.transitionInstance") {
                _ = try await catalog.transitionInstance(instance.id, to: .stopped, reason: failure.message)
            }
            throw failure
        }
        return try await catalog.transitionInstance(instance.id, to: .running, launchedAt: Date())
    }

    /// Shuts a domain down and waits until it is off; returns why it stopped the way it did.
    func powerOff(_ instance: Instance, hypervisor: Hypervisor, force: Bool, timeout: Duration)
        async throws(SnaplabError) -> String?
    {
        let domainName = instance.domainName
        let events = try await hypervisor.lifecycleEvents()
        if force {
            try await hypervisor.destroyDomain(name: domainName)
            return "forced off"
        }
        guard let state = try await hypervisor.domainState(name: domainName), state != .shutoff else { return nil }
        // The guest powers off through its agent (the tiny OS has no ACPI daemon); give a freshly booted agent a
        // moment to answer before asking.
        await logger.bestEffort("waiting for the guest agent") {
            try await GuestAgent(hypervisor: hypervisor, domain: domainName)
                .waitUntilResponsive(deadline: ContinuousClock.now + .seconds(30))
        }
        do throws(SnaplabError) {
            try await hypervisor.requestShutdown(name: domainName)
        } catch {
            try await hypervisor.destroyDomain(name: domainName)
            return "the guest refused to shut down (\(error.message)); powered off"
        }
        let stopped: Bool
        do {
            stopped = try await withDeadline(timeout, onTimeout: { SnaplabError(.timeout, "shutdown timed out") }) {
                for await event in events where event.domainName == domainName && event.kind == .stopped {
                    return true
                }
                return false
            }
        } catch {
            stopped = false
        }
        if !stopped, let state = try await hypervisor.domainState(name: domainName), state != .shutoff {
            try await hypervisor.destroyDomain(name: domainName)
            return "the guest did not shut down within \(timeout); powered off"
        }
        return nil
    }
}
