import Blocking
import Foundation
import Libvirt

/// Reconciles instance rows with libvirt: a domain that went away or powered itself off is recorded as stopped,
/// a guest launched without waiting becomes running once it printed `ready`. Every service that acts on an
/// instance's state reads it through here.
final class InstanceStates: Sendable {
    let catalog: Catalog
    let hosts: HostService

    init(catalog: Catalog, hosts: HostService) {
        self.catalog = catalog
        self.hosts = hosts
    }

    /// The instance with its state reconciled against libvirt.
    func refreshed(_ id: String) async throws(SnaplabError) -> Instance {
        try await refreshed(try await catalog.instance(id))
    }

    /// A running instance whose domain is gone or off (the guest powered itself off, or someone destroyed it)
    /// is recorded as stopped.
    func refreshed(_ instance: Instance) async throws(SnaplabError) -> Instance {
        guard [.running, .pending, .stopping].contains(instance.state) else { return instance }
        let hypervisor: Hypervisor
        let state: DomainState?
        do throws(SnaplabError) {
            hypervisor = try await hosts.hypervisor(named: instance.host)
            state = try await hypervisor.domainState(name: instance.domainName)
        } catch  where error.code == .hypervisor {
            // A host that does not answer (down, or its network gone): the instance is as last recorded; listing
            // and describing the lab must not fail for it (`host list` says which host is unreachable).
            return instance
        }
        let off = state == nil || state == .shutoff || state == .crashed
        if instance.state == .stopping {
            // Its stopper (maybe another process, maybe gone) has not recorded the end yet.
            guard off else { return instance }
            return try await catalog.transitionInstance(instance.id, to: .stopped, reason: instance.stateReason)
        }
        if instance.state == .pending {
            // Launched or started without waiting: running once the latest boot said ready; stopped if its
            // domain went away before that.
            let console = ConsoleLog(path: instance.consolePath)
            let markers = await BlockingPool.run { console.latestBootMarkers() }
            if state == .running, markers.contains(where: { $0.phase == "ready" }) {
                return try await catalog.transitionInstance(instance.id, to: .running, launchedAt: Date())
            }
            // The agent answering is the signal every image gives (and the only one of a remote host's guest,
            // whose console file is not on this disk); markers add detail where the image prints them.
            if state == .running, await GuestAgent(hypervisor: hypervisor, domain: instance.domainName).answers() {
                return try await catalog.transitionInstance(instance.id, to: .running, launchedAt: Date())
            }
            // A launch defines the domain and starts it right after writing the boot marker: give it time.
            guard off, Date().timeIntervalSince(console.lastModified() ?? instance.createdAt) > 30 else {
                return instance
            }
            return try await catalog.transitionInstance(
                instance.id, to: .stopped,
                reason: "the guest stopped before it was ready")
        }
        guard off else { return instance }
        let reason = state == nil ? "its libvirt domain disappeared" : "the guest stopped by itself"
        return try await catalog.transitionInstance(instance.id, to: .stopped, reason: reason)
    }
}
