import Foundation

/// What `host init` found and prepared.
public struct HostReport: Sendable, Codable {
    public var host: Host
    public var libvirtVersion: String
    public var hypervisorVersion: String
    public var poolCapacity: UInt64
    public var poolAvailable: UInt64
}

extension Lab {
    /// Checks that libvirt answers, creates the storage pool and records the host.
    public func initializeHost(uri: String, poolName: String, poolPath: String?) async throws(SnaplabError)
        -> HostReport
    {
        let poolPath = poolPath ?? paths.defaultPool.path
        if uri.hasPrefix("qemu:///system") {
            try Self.checkLocalDaemons()
        }
        let hypervisor = try await Hypervisor.connect(uri: uri)
        let versions = try await hypervisor.versions()
        try Directories.create(URL(fileURLWithPath: poolPath).deletingLastPathComponent())
        let pool = try await hypervisor.ensurePool(name: poolName, path: poolPath)
        let host = Host(name: defaultHostName, uri: uri, poolName: poolName, poolPath: poolPath)
        try await catalog.save(host)
        remember(hypervisor, for: host)
        return HostReport(host: host, libvirtVersion: versions.libvirt, hypervisorVersion: versions.hypervisor,
                          poolCapacity: pool.capacity, poolAvailable: pool.available)
    }

    /// libvirtd answers without virtlogd, but no domain can start then; say so before anything else fails.
    static func checkLocalDaemons() throws(SnaplabError) {
        let sockets = ["/run/libvirt/libvirt-sock": "libvirtd", "/run/libvirt/virtlogd-sock": "virtlogd"]
        let missing = sockets.filter { !FileManager.default.fileExists(atPath: $0.key) }.map(\.value).sorted()
        guard missing.isEmpty else {
            throw SnaplabError(.hypervisor,
                               "\(missing.joined(separator: " and ")) not running (no socket in /run/libvirt). Start the daemons as root with `virtlogd -d && libvirtd -d` (or `make setup`), then run `snaplab host init` again.")
        }
    }
}
