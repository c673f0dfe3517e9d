import Foundation
import Logging
import Synchronization

/// What `host init` found and prepared.
public struct HostReport: Sendable, Codable {
    public var host: Host
    public var libvirtVersion: String
    public var hypervisorVersion: String
    public var poolCapacity: UInt64
    public var poolAvailable: UInt64
}

/// The lab's libvirt hosts: their records, their pools, and one open connection each.
public final class HostService: Sendable {
    let logger = Logger(label: "snaplab.hosts")
    /// The host `host init` records, and where resources go unless told otherwise.
    public static let defaultName = "local"

    let catalog: Catalog
    let paths: LabPaths
    private let hypervisors = Mutex<[String: Hypervisor]>([:])

    init(catalog: Catalog, paths: LabPaths) {
        self.catalog = catalog
        self.paths = paths
    }

    /// The libvirt connection of `host`, opened on first use and kept (and opened again once it died: a host's
    /// libvirtd restarted, or a host on another machine came back).
    public func hypervisor(for host: Host) async throws(SnaplabError) -> Hypervisor {
        if let open = hypervisors.withLock({ $0[host.name] }), open.uri == host.uri, open.connection.isAlive {
            return open
        }
        let connected = try await Hypervisor.connect(uri: host.uri)
        remember(connected, for: host)
        return connected
    }

    public func hypervisor(named name: String) async throws(SnaplabError) -> Hypervisor {
        try await hypervisor(for: try await catalog.host(named: name))
    }

    private func remember(_ hypervisor: Hypervisor, for host: Host) {
        hypervisors.withLock { $0[host.name] = hypervisor }
    }

    /// The named host, or the default one.
    public func host(_ name: String?) async throws(SnaplabError) -> Host {
        try await catalog.host(named: name ?? Self.defaultName)
    }

    /// Checks that libvirt answers, creates the storage pool and records the lab's first host (`local`).
    public func initialize(uri: String, poolName: String, poolPath: String?) async throws(SnaplabError) -> HostReport {
        try await add(name: Self.defaultName, uri: uri, poolName: poolName, poolPath: poolPath)
    }

    /// Adds (or re-checks) a host: any libvirt URI (`qemu:///system`, `qemu:///session`, `qemu+ssh://h2/system`…).
    public func add(name: String, uri: String, poolName: String, poolPath: String?) async throws(SnaplabError)
        -> HostReport
    {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw SnaplabError(.invalidArgument, "host name '\(name)' must be letters, digits, - or _")
        }
        let poolPath =
            poolPath
            ?? (name == Self.defaultName
                ? paths.defaultPool.path
                : paths.stateDirectory.appendingPathComponent("pool-\(name)").path)
        if uri.hasPrefix("qemu:///system") {
            try Self.checkLocalDaemons()
        }
        let hypervisor = try await Hypervisor.connect(uri: uri)
        let versions = try await hypervisor.versions()
        try Directories.create(URL(fileURLWithPath: poolPath).deletingLastPathComponent())
        let pool = try await hypervisor.ensurePool(name: poolName, path: poolPath)
        let host = Host(name: name, uri: uri, poolName: poolName, poolPath: poolPath)
        try await catalog.save(host)
        remember(hypervisor, for: host)
        return HostReport(
            host: host, libvirtVersion: versions.libvirt, hypervisorVersion: versions.hypervisor,
            poolCapacity: pool.capacity, poolAvailable: pool.available)
    }

    /// libvirtd answers without virtlogd, but no domain can start then; say so before anything else fails.
    static func checkLocalDaemons() throws(SnaplabError) {
        let sockets = ["/run/libvirt/libvirt-sock": "libvirtd", "/run/libvirt/virtlogd-sock": "virtlogd"]
        let missing = sockets.filter { !FileManager.default.fileExists(atPath: $0.key) }.map(\.value).sorted()
        guard missing.isEmpty else {
            throw SnaplabError(
                .hypervisor,
                "\(missing.joined(separator: " and ")) not running (no socket in /run/libvirt). Start the daemons as root with `virtlogd -d && libvirtd -d` (or `make setup`), then run `snaplab host init` again."
            )
        }
    }
}

/// `host list`: a host with what it holds.
public struct HostSummary: Sendable, Codable {
    public var host: Host
    public var instances: Int
    public var runningInstances: Int
    public var volumes: Int
    public var poolCapacity: UInt64?
    public var poolAvailable: UInt64?
    /// Why the host could not be asked, when it could not.
    public var problem: String?
}

extension HostService {
    public func summaries() async throws(SnaplabError) -> [HostSummary] {
        let instances = try await catalog.instances().filter { $0.state != .terminated }
        let volumes = try await catalog.volumes()
        var result: [HostSummary] = []
        for host in try await catalog.hosts() {
            var summary = HostSummary(
                host: host, instances: instances.filter { $0.host == host.name }.count,
                runningInstances: instances.filter { $0.host == host.name && $0.state == .running }.count,
                volumes: volumes.filter { $0.host == host.name }.count)
            do throws(SnaplabError) {
                let info = try await hypervisor(for: host).ensurePool(name: host.poolName, path: host.poolPath)
                summary.poolCapacity = info.capacity
                summary.poolAvailable = info.available
            } catch {
                summary.problem = error.message
            }
            result.append(summary)
        }
        return result
    }

    /// The host new instances go to: the one asked for, else the one running the fewest instances.
    public func placement(_ name: String?) async throws(SnaplabError) -> Host {
        if let name { return try await catalog.host(named: name) }
        let hosts = try await catalog.hosts()
        guard !hosts.isEmpty else {
            throw SnaplabError(.notFound, "the lab has no host; run `snaplab host init` first")
        }
        let load = Dictionary(grouping: try await catalog.instances().filter { $0.state != .terminated }, by: \.host)
            .mapValues(\.count)
        return hosts.sorted { (load[$0.name] ?? 0, $0.name) < (load[$1.name] ?? 0, $1.name) }[0]
    }
}
