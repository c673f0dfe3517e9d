import Blocking
import Crypto
import Foundation
import Libvirt
import Logging

/// Volumes: qcow2 files in a host's pool, created empty, from an image build, restored or as overlays.
public final class VolumeService: Sendable {
    let logger = Logger(label: "snaplab.volumes")
    let catalog: Catalog
    let paths: LabPaths
    let hosts: HostService
    let copies: SnapshotCopies
    let bases: BaseService

    init(catalog: Catalog, paths: LabPaths, hosts: HostService, copies: SnapshotCopies, bases: BaseService) {
        self.catalog = catalog
        self.paths = paths
        self.hosts = hosts
        self.copies = copies
        self.bases = bases
    }

    /// Creates an empty qcow2 volume (a data disk, or a boot disk to be filled later).
    public func create(role: VolumeRole, size: UInt64, tags: [String: String] = [:], host hostName: String? = nil)
        async throws(SnaplabError) -> Volume
    {
        guard size >= 1 << 20 else {
            throw SnaplabError(.invalidArgument, "a volume must be at least 1 MiB; asked for \(size) bytes")
        }
        let host = try await hosts.host(hostName)
        return try await provision(role: role, size: size, host: host, tags: tags, boot: nil, origin: nil) {
            (hypervisor: Hypervisor, id: String) async throws(SnaplabError) in
            try await hypervisor.createVolume(pool: host.poolName, name: Self.poolVolumeName(id), capacity: size)
        }
    }

    /// Creates a boot volume holding the OS of an image build, and records how to boot it.
    public func createBoot(from build: ImageBuild, tags: [String: String] = [:], host hostName: String? = nil)
        async throws(SnaplabError) -> Volume
    {
        let host = try await hosts.host(hostName)
        let size = try QcowHeader.virtualSize(of: build.bootImage)
        let boot = BootSettings(
            kernel: try await storeBootArtifact(build.kernel, suffix: "vmlinuz"),
            initrd: try await storeBootArtifact(build.initrd, suffix: "initrd.img"),
            cmdline: build.cmdline, firmware: build.firmware)
        let origin = "recipe \(build.directory.lastPathComponent) (kernel \(build.kernelVersion))"
        return try await provision(role: .boot, size: size, host: host, tags: tags, boot: boot, origin: origin) {
            (hypervisor: Hypervisor, id: String) async throws(SnaplabError) in
            try await hypervisor.importVolume(
                pool: host.poolName, name: Self.poolVolumeName(id), capacity: size,
                from: build.bootImage)
        }
    }

    /// A boot volume from a disk image the user handed over: checked first, converted to a fresh qcow2 in the
    /// lab's scratch directory, then streamed into the pool through libvirt.
    func importBoot(_ image: UntrustedDiskImage, boot: BootSettings, origin: String, host hostName: String?)
        async throws(SnaplabError) -> Volume
    {
        let host = try await hosts.host(hostName)
        let size = try await image.inspect()
        var settings = boot
        if !boot.kernel.isEmpty {
            settings.kernel = try await storeBootArtifact(URL(fileURLWithPath: boot.kernel), suffix: "vmlinuz")
            settings.initrd = try await storeBootArtifact(URL(fileURLWithPath: boot.initrd), suffix: "initrd.img")
        }
        let scratch = paths.stateDirectory.appendingPathComponent("imports")
        try Directories.create(scratch)
        let converted = scratch.appendingPathComponent("\(UUID().uuidString).qcow2")
        defer { try? FileManager.default.removeItem(at: converted) }
        try await image.convert(to: converted)
        return try await provision(role: .boot, size: size, host: host, tags: [:], boot: settings, origin: origin) {
            (hypervisor: Hypervisor, id: String) async throws(SnaplabError) in
            try await hypervisor.importVolume(
                pool: host.poolName, name: Self.poolVolumeName(id), capacity: size, from: converted)
        }
    }

    /// Records the volume as `creating`, makes it on the host, then marks it `available`; on failure the row
    /// goes away again, so a failed create leaves nothing behind.
    func provision(
        role: VolumeRole, size: UInt64, host: Host, tags: [String: String], boot: BootSettings?, origin: String?,
        baseSnapshotId: String? = nil, lazy: LazySource? = nil,
        make: (Hypervisor, String) async throws(SnaplabError) -> (path: String, info: Libvirt.StorageVolumeInfo)
    ) async throws(SnaplabError) -> Volume {
        let hypervisor = try await hosts.hypervisor(for: host)
        let id = ResourceID.generate(.volume)
        var volume = Volume(
            id: id, host: host.name, role: role, size: size, state: .creating,
            poolVolume: Self.poolVolumeName(id), path: "", boot: boot, origin: origin, tags: tags)
        volume.baseSnapshotId = baseSnapshotId
        volume.lazy = lazy
        let worker = ProcessIdentity.current
        volume.workerPid = worker.pid
        volume.workerStartTime = worker.startTime
        try await catalog.insert(volume)
        do throws(SnaplabError) {
            let made = try await make(hypervisor, id)
            volume.path = made.path
            volume.size = made.info.capacity
            volume.state = .available
            volume.workerPid = nil
            volume.workerStartTime = nil
            try await catalog.update(volume)
            return volume
        } catch {
            await logger.bestEffort("hypervisor.deleteVolume") {
                try await hypervisor.deleteVolume(pool: host.poolName, name: volume.poolVolume)
            }
            await logger.bestEffort("catalog.deleteVolume") { try await catalog.deleteVolume(id) }
            throw error
        }
    }

    public func list() async throws(SnaplabError) -> [Volume] {
        try await catalog.volumes()
    }

    public func get(_ id: String) async throws(SnaplabError) -> Volume {
        try await catalog.volume(id)
    }

    /// Deletes an available volume; one attached to an instance (running or stopped) is refused.
    public func delete(_ id: String) async throws(SnaplabError) {
        let volume = try await catalog.volume(id)
        if volume.state == .inUse {
            throw SnaplabError(
                .invalidState,
                "volume \(id) is in-use by instance \(volume.instanceId ?? "?"); terminate that instance (or detach the volume) first",
                subject: id, detail: .inUse)
        }
        try await copies.checkNotCopying([id], action: "deleted")
        try await catalog.transitionVolume(id, from: [.available, .error, .creating], to: .deleting)
        let host = try await catalog.host(named: volume.host)
        try await hosts.hypervisor(for: host).deleteVolume(pool: host.poolName, name: volume.poolVolume)
        try await catalog.deleteVolume(id)
        if let base = volume.baseSnapshotId { await bases.releaseIfUnused(base) }
    }

    /// Removes what a killed restore left: a volume still `creating` whose filling process is gone. Its file holds
    /// part of a snapshot and nothing may use it; a new restore starts over.
    func recoverInterruptedRestores() async throws(SnaplabError) {
        for volume in try await catalog.volumes() where volume.state == .creating {
            guard let pid = volume.workerPid, let start = volume.workerStartTime,
                !ProcessIdentity(pid: pid, startTime: start).isAlive
            else { continue }
            let host = try await catalog.host(named: volume.host)
            try await hosts.hypervisor(for: host).deleteVolume(pool: host.poolName, name: volume.poolVolume)
            try await catalog.deleteVolume(volume.id)
        }
    }

    static func poolVolumeName(_ id: String) -> String { "\(id).qcow2" }

    /// Copies a kernel or initramfs into the lab, named by its SHA-256, and returns its path.
    func storeBootArtifact(_ file: URL, suffix: String) async throws(SnaplabError) -> String {
        let directory = paths.bootArtifacts
        do {
            return try await BlockingPool.run { try Self.storeContentAddressed(file, suffix: suffix, in: directory) }
        } catch {
            throw error as? SnaplabError ?? SnaplabError(.io, "cannot store \(file.path)", cause: error)
        }
    }

    private static func storeContentAddressed(_ file: URL, suffix: String, in directory: URL)
        throws(SnaplabError) -> String
    {
        guard let data = FileManager.default.contents(atPath: file.path) else {
            throw SnaplabError(.io, "cannot read \(file.path)")
        }
        let digest = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let target = directory.appendingPathComponent("\(digest.prefix(32))-\(suffix)")
        do {
            try installOnce(data, at: target)
        } catch {
            throw SnaplabError(.io, "cannot store \(file.lastPathComponent) in \(directory.path)", cause: error)
        }
        return target.path
    }

    /// Writes a content-addressed file unless it is there already: through a temp file renamed into place, so
    /// a reader never sees it half written. Blocking: call it on the blocking pool.
    static func installOnce(_ data: Data, at target: URL) throws {
        if FileManager.default.fileExists(atPath: target.path) { return }
        let temporary = target.deletingLastPathComponent().appendingPathComponent(".\(UUID().uuidString)")
        do {
            try data.write(to: temporary)
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: temporary.path)
            if rename(temporary.path, target.path) != 0 { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)  // The error thrown next says what went wrong.
            throw error
        }
    }
}
