import Foundation
import Libvirt

extension Hypervisor {
    /// Makes sure a started, autostarting `dir` pool of that name exists at `path`.
    public func ensurePool(name: String, path: String) async throws(SnaplabError) -> StoragePoolInfo {
        try await call("preparing storage pool \(name)") { connection in
            let pool: StoragePool
            if let existing = try connection.findStoragePool(name: name) {
                pool = existing
                // Its directory may be gone behind libvirt's back (a removed state directory): an active pool
                // then fails to rescan (and libvirt may deactivate it); stop it, and it is rebuilt and started
                // again below.
                if try pool.isActive(), (try? pool.refresh()) == nil, try pool.isActive() { try pool.stop() }
            } else {
                pool = try connection.defineStoragePool(xml: PoolXML(name: name, path: path).render())
            }
            if try !pool.isActive() {
                try pool.build()  // Creates the directory if it is missing; leaves an existing one as it is.
                try pool.start()
            }
            try pool.setAutostart(true)
            try pool.refresh()
            return try pool.info()
        }
    }

    /// Creates an empty qcow2 (compat 1.1) volume, or, with `backingPath`, a copy-on-write overlay on it.
    public func createVolume(pool: String, name: String, capacity: UInt64, backingPath: String? = nil)
        async throws(SnaplabError) -> (path: String, info: StorageVolumeInfo)
    {
        let xml = VolumeXML(name: name, capacity: capacity, backingPath: backingPath).render()
        return try await call("creating volume \(name)") { connection in
            let volume = try connection.lookupStoragePool(name: pool).createVolume(xml: xml)
            return (try volume.path(), try volume.info())
        }
    }

    /// Creates a qcow2 volume and fills it with a local qcow2 file's bytes (streamed through libvirt).
    public func importVolume(pool: String, name: String, capacity: UInt64, from file: URL)
        async throws(SnaplabError) -> (path: String, info: StorageVolumeInfo)
    {
        let xml = VolumeXML(name: name, capacity: capacity, backingPath: nil).render()
        return try await call("importing \(file.path) as volume \(name)") { connection in
            let storagePool = try connection.lookupStoragePool(name: pool)
            try Self.createFilled(in: storagePool, xml: xml, from: file)
            try storagePool.refresh()
            let refreshed = try storagePool.lookupVolume(name: name)
            return (try refreshed.path(), try refreshed.info())
        }
    }

    /// A volume's file copied to a local file through libvirt's download stream.
    public func downloadVolume(pool: String, name: String, to file: URL) async throws(SnaplabError) {
        try await call("downloading volume \(name)") { connection in
            try connection.lookupStoragePool(name: pool).lookupVolume(name: name).download(to: file)
        }
    }

    /// A local file as a raw volume of the pool, uploaded once: the volume is named by the caller after the
    /// file's content, so one that exists already is that file. Returns the volume's path on its host.
    public func uploadFileOnce(pool: String, name: String, from file: URL) async throws(SnaplabError) -> String {
        let size = (try? FileManager.default.attributesOfItem(atPath: file.path)[.size] as? UInt64) ?? 0
        let xml = VolumeXML(name: name, capacity: max(size, 1), backingPath: nil, format: "raw").render()
        return try await call("uploading \(file.path) as volume \(name)") { connection in
            let storagePool = try connection.lookupStoragePool(name: pool)
            if let existing = try storagePool.findVolume(name: name) { return try existing.path() }
            return try Self.createFilled(in: storagePool, xml: xml, from: file).path()
        }
    }

    /// A new volume holding a local file's bytes (streamed through libvirt); no half-filled volume is left.
    @discardableResult
    private static func createFilled(in pool: StoragePool, xml: String, from file: URL) throws(LibvirtError)
        -> StorageVolume
    {
        let volume = try pool.createVolume(xml: xml)
        do {
            try volume.upload(contentsOf: file)
        } catch {
            try? volume.delete()
            throw error
        }
        return volume
    }

    /// A file something other than libvirt made in the pool's directory, as a pool volume (the pool rescans).
    public func adoptVolume(pool: String, name: String) async throws(SnaplabError)
        -> (path: String, info: StorageVolumeInfo)
    {
        try await call("adopting \(name) into pool \(pool)") { connection in
            let storagePool = try connection.lookupStoragePool(name: pool)
            try storagePool.refresh()
            let volume = try storagePool.lookupVolume(name: name)
            return (try volume.path(), try volume.info())
        }
    }

    /// Deletes a volume; a volume that is already gone is not an error.
    public func deleteVolume(pool: String, name: String) async throws(SnaplabError) {
        try await call("deleting volume \(name)") { connection in
            let storagePool = try connection.lookupStoragePool(name: pool)
            try storagePool.findVolume(name: name)?.delete()
        }
    }

    public func volumeInfo(pool: String, name: String) async throws(SnaplabError) -> StorageVolumeInfo? {
        try await call("reading volume \(name)") { connection in
            try connection.lookupStoragePool(name: pool).findVolume(name: name)?.info()
        }
    }
}
