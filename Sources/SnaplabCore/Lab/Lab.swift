import Foundation
import SnapshotStore
import Synchronization

/// The controller: every front end (CLI, API, daemon) drives the lab through this one object.
public final class Lab: Sendable {
    public let paths: LabPaths
    public let catalog: Catalog
    /// The host new resources go to until multi-host placement exists.
    public let defaultHostName = "local"
    private let hypervisors = Mutex<[String: Hypervisor]>([:])
    let openStore = Mutex<SnapshotStore?>(nil)
    /// Snapshot copies running in this process, by snapshot id.
    let copies = Mutex<[String: Task<Snapshot, Never>]>([:])

    public init(paths: LabPaths) throws(SnaplabError) {
        self.paths = paths
        try Directories.create(paths.stateDirectory)
        try Directories.create(paths.consoles)
        try Directories.create(paths.bootArtifacts)
        catalog = try Catalog(path: paths.catalog.path)
    }

    /// Opens the lab and settles what a previous process left unfinished (snapshots whose copy died, volumes
    /// and bases whose restore died).
    public static func open(paths: LabPaths) async throws(SnaplabError) -> Lab {
        let lab = try Lab(paths: paths)
        try await lab.recoverInterruptedSnapshots()
        try await lab.recoverInterruptedRestores()
        return lab
    }

    /// The libvirt connection of `host`, opened on first use and kept.
    public func hypervisor(for host: Host) async throws(SnaplabError) -> Hypervisor {
        if let open = hypervisors.withLock({ $0[host.name] }), open.uri == host.uri { return open }
        let connected = try await Hypervisor.connect(uri: host.uri)
        remember(connected, for: host)
        return connected
    }

    func remember(_ hypervisor: Hypervisor, for host: Host) {
        hypervisors.withLock { $0[host.name] = hypervisor }
    }

    public func hypervisor(forHostNamed name: String) async throws(SnaplabError) -> Hypervisor {
        try await hypervisor(for: try await catalog.host(named: name))
    }
}
