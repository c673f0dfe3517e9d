import CLibvirt
import Foundation

extension Connection {
    /// Defines a persistent domain from XML (it stays known to libvirt when shut off).
    public func defineDomain(xml: String) throws(LibvirtError) -> Domain {
        Domain(try check(virDomainDefineXML(pointer, xml), "virDomainDefineXML"), connection: self)
    }

    /// Creates and starts a transient domain from XML (gone once it stops).
    public func createTransientDomain(xml: String) throws(LibvirtError) -> Domain {
        Domain(try check(virDomainCreateXML(pointer, xml, 0), "virDomainCreateXML"), connection: self)
    }

    public func lookupDomain(name: String) throws(LibvirtError) -> Domain {
        Domain(try check(virDomainLookupByName(pointer, name), "virDomainLookupByName(\(name))"), connection: self)
    }

    public func lookupDomain(uuid: String) throws(LibvirtError) -> Domain {
        Domain(
            try check(virDomainLookupByUUIDString(pointer, uuid), "virDomainLookupByUUIDString(\(uuid))"),
            connection: self)
    }

    /// The domain of that name, or nil if libvirt knows none.
    public func findDomain(name: String) throws(LibvirtError) -> Domain? {
        do throws(LibvirtError) {
            return try lookupDomain(name: name)
        } catch  where error.isNotFound {
            return nil
        }
    }

    /// Every domain, running or defined.
    public func allDomains() throws(LibvirtError) -> [Domain] {
        var list: UnsafeMutablePointer<virDomainPtr?>?
        let count = try check(virConnectListAllDomains(pointer, &list, 0), "virConnectListAllDomains")
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            list?[index].map { Domain($0, connection: self) }
        }
    }
}
