import CLibvirt
import Foundation
import Synchronization

/// An open libvirt connection (`virConnectPtr`), closed when the last reference goes.
///
/// `@unchecked Sendable`: libvirt connections are thread-safe (since libvirt 0.6.0 one `virConnectPtr` may be
/// used from many threads at once), and this class holds no other mutable state.
public final class Connection: @unchecked Sendable {
    let pointer: virConnectPtr
    public let uri: String
    let broadcaster = LifecycleBroadcaster()
    let registration = Mutex(false)

    public init(uri: String) throws(LibvirtError) {
        LibvirtRuntime.ensureStarted()
        guard let pointer = virConnectOpen(uri) else { throw LibvirtError.last("virConnectOpen(\(uri))") }
        self.pointer = pointer
        self.uri = uri
        if !uri.hasPrefix("test:") {
            // Remote links notice a dead peer; local ones ignore this.
            _ = virConnectSetKeepAlive(pointer, 5, 3)
            virResetLastError()
        }
    }

    deinit {
        deregisterLifecycleCallback()
        virConnectClose(pointer)
    }

    /// libvirt library version as major.minor.release.
    public func libraryVersion() throws(LibvirtError) -> Version {
        var version: UInt = 0
        try check(virConnectGetLibVersion(pointer, &version), "virConnectGetLibVersion")
        return Version(packed: version)
    }

    /// Hypervisor (qemu) version as major.minor.release.
    public func hypervisorVersion() throws(LibvirtError) -> Version {
        var version: UInt = 0
        try check(virConnectGetVersion(pointer, &version), "virConnectGetVersion")
        return Version(packed: version)
    }

    public func hostname() throws(LibvirtError) -> String {
        try takeString(virConnectGetHostname(pointer), "virConnectGetHostname")
    }

    /// The capabilities XML (host CPU, guest architectures and domain types).
    public func capabilities() throws(LibvirtError) -> String {
        try takeString(virConnectGetCapabilities(pointer), "virConnectGetCapabilities")
    }

    /// The URI libvirt actually connected to (after defaults and aliases).
    public func canonicalURI() throws(LibvirtError) -> String {
        try takeString(virConnectGetURI(pointer), "virConnectGetURI")
    }

    public var isAlive: Bool { virConnectIsAlive(pointer) == 1 }
}

/// A libvirt version number (packed as major * 1_000_000 + minor * 1_000 + release).
public struct Version: Sendable, Equatable, Comparable, CustomStringConvertible {
    public let major: Int
    public let minor: Int
    public let release: Int

    public init(packed: UInt) {
        major = Int(packed / 1_000_000)
        minor = Int(packed / 1_000 % 1_000)
        release = Int(packed % 1_000)
    }

    public var description: String { "\(major).\(minor).\(release)" }

    public static func < (lhs: Version, rhs: Version) -> Bool {
        (lhs.major, lhs.minor, lhs.release) < (rhs.major, rhs.minor, rhs.release)
    }
}
