import CLibvirt
import Foundation

/// A libvirt storage pool handle (`virStoragePoolPtr`).
///
/// `@unchecked Sendable`: libvirt's pool objects are reference-counted and safe to use from any thread.
public final class StoragePool: @unchecked Sendable {
    let pointer: virStoragePoolPtr
    public let connection: Connection

    init(_ pointer: virStoragePoolPtr, connection: Connection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit {
        virStoragePoolFree(pointer)
    }

    public var name: String {
        virStoragePoolGetName(pointer).map { String(cString: $0) } ?? ""
    }

    /// Creates the pool's backing (for a `dir` pool: the directory, with the permissions in the XML).
    public func build() throws(LibvirtError) {
        try check(virStoragePoolBuild(pointer, 0), "virStoragePoolBuild(\(name))")
    }

    /// Starts (activates) a defined pool.
    public func start() throws(LibvirtError) {
        try check(virStoragePoolCreate(pointer, 0), "virStoragePoolCreate(\(name))")
    }

    public func setAutostart(_ enabled: Bool) throws(LibvirtError) {
        try check(virStoragePoolSetAutostart(pointer, enabled ? 1 : 0), "virStoragePoolSetAutostart(\(name))")
    }

    public func isActive() throws(LibvirtError) -> Bool {
        try check(virStoragePoolIsActive(pointer), "virStoragePoolIsActive(\(name))") == 1
    }

    /// Rescans the pool's backing for volumes created or removed behind libvirt's back.
    public func refresh() throws(LibvirtError) {
        try check(virStoragePoolRefresh(pointer, 0), "virStoragePoolRefresh(\(name))")
    }

    /// Stops the pool (its volumes stay on disk).
    public func stop() throws(LibvirtError) {
        try check(virStoragePoolDestroy(pointer), "virStoragePoolDestroy(\(name))")
    }

    /// Removes the pool's (empty) backing directory.
    public func deleteBacking() throws(LibvirtError) {
        try check(virStoragePoolDelete(pointer, 0), "virStoragePoolDelete(\(name))")
    }

    public func undefine() throws(LibvirtError) {
        try check(virStoragePoolUndefine(pointer), "virStoragePoolUndefine(\(name))")
    }

    public func xml() throws(LibvirtError) -> String {
        try takeString(virStoragePoolGetXMLDesc(pointer, 0), "virStoragePoolGetXMLDesc(\(name))")
    }

    public func info() throws(LibvirtError) -> StoragePoolInfo {
        var info = virStoragePoolInfo()
        try check(virStoragePoolGetInfo(pointer, &info), "virStoragePoolGetInfo(\(name))")
        return StoragePoolInfo(
            capacity: UInt64(info.capacity), allocation: UInt64(info.allocation),
            available: UInt64(info.available))
    }

    /// Creates a volume from XML (format, capacity, `<compat>`, `<backingStore>`…).
    public func createVolume(xml: String) throws(LibvirtError) -> StorageVolume {
        StorageVolume(
            try check(virStorageVolCreateXML(pointer, xml, 0), "virStorageVolCreateXML(\(name))"),
            connection: connection)
    }

    public func lookupVolume(name volumeName: String) throws(LibvirtError) -> StorageVolume {
        StorageVolume(
            try check(
                virStorageVolLookupByName(pointer, volumeName),
                "virStorageVolLookupByName(\(volumeName))"), connection: connection)
    }

    /// The volume of that name, or nil if the pool has none.
    public func findVolume(name volumeName: String) throws(LibvirtError) -> StorageVolume? {
        do throws(LibvirtError) {
            return try lookupVolume(name: volumeName)
        } catch  where error.isNotFound {
            return nil
        }
    }

    public func allVolumes() throws(LibvirtError) -> [StorageVolume] {
        var list: UnsafeMutablePointer<virStorageVolPtr?>?
        let count = try check(virStoragePoolListAllVolumes(pointer, &list, 0), "virStoragePoolListAllVolumes")
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            list?[index].map { StorageVolume($0, connection: connection) }
        }
    }
}

public struct StoragePoolInfo: Sendable, Equatable {
    public let capacity: UInt64
    public let allocation: UInt64
    public let available: UInt64
}
