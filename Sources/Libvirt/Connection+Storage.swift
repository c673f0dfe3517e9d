import CLibvirt

extension Connection {
    /// Defines a persistent storage pool from XML.
    public func defineStoragePool(xml: String) throws(LibvirtError) -> StoragePool {
        StoragePool(try check(virStoragePoolDefineXML(pointer, xml, 0), "virStoragePoolDefineXML"), connection: self)
    }

    public func lookupStoragePool(name: String) throws(LibvirtError) -> StoragePool {
        StoragePool(
            try check(virStoragePoolLookupByName(pointer, name), "virStoragePoolLookupByName(\(name))"),
            connection: self)
    }

    /// The pool of that name, or nil if libvirt knows none.
    public func findStoragePool(name: String) throws(LibvirtError) -> StoragePool? {
        do throws(LibvirtError) {
            return try lookupStoragePool(name: name)
        } catch  where error.isNotFound {
            return nil
        }
    }

    /// The volume at that path in any active pool.
    public func lookupStorageVolume(path: String) throws(LibvirtError) -> StorageVolume {
        StorageVolume(
            try check(virStorageVolLookupByPath(pointer, path), "virStorageVolLookupByPath(\(path))"),
            connection: self)
    }
}
