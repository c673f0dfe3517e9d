import CLibvirt
import Foundation

/// A mounted filesystem as the guest agent reports it.
public struct GuestFilesystem: Sendable, Equatable {
    public let mountpoint: String
    public let fstype: String
    /// The domain's disk targets backing it (e.g. `vdb`).
    public let disks: [String]
}

extension Domain {
    /// The guest's mounted filesystems and the disks under each (needs the guest agent).
    public func filesystems() throws(LibvirtError) -> [GuestFilesystem] {
        var list: UnsafeMutablePointer<virDomainFSInfoPtr?>?
        let count = try check(virDomainGetFSInfo(pointer, &list, 0), "virDomainGetFSInfo(\(name))")
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            guard let info = list?[index] else { return nil }
            defer { virDomainFSInfoFree(info) }
            let disks = (0..<Int(info.pointee.ndevAlias)).compactMap { position in
                info.pointee.devAlias?[position].map { String(cString: $0) }
            }
            return GuestFilesystem(
                mountpoint: info.pointee.mountpoint.map { String(cString: $0) } ?? "",
                fstype: info.pointee.fstype.map { String(cString: $0) } ?? "", disks: disks)
        }
    }

    /// Freezes the listed filesystems (flushing them first); returns how many were frozen.
    @discardableResult
    public func freezeFilesystems(_ mountpoints: [String]) throws(LibvirtError) -> Int {
        var cStrings: [UnsafePointer<CChar>?] = mountpoints.map { UnsafePointer(strdup($0)) }
        defer { for cString in cStrings { free(UnsafeMutablePointer(mutating: cString)) } }
        let frozen = cStrings.withUnsafeMutableBufferPointer { buffer in
            virDomainFSFreeze(pointer, buffer.baseAddress, UInt32(mountpoints.count), 0)
        }
        return Int(try check(frozen, "virDomainFSFreeze(\(name))"))
    }

    /// Thaws every frozen filesystem of the guest.
    @discardableResult
    public func thawFilesystems() throws(LibvirtError) -> Int {
        Int(try check(virDomainFSThaw(pointer, nil, 0, 0), "virDomainFSThaw(\(name))"))
    }
}
