import CLibvirt
import Foundation

/// A libvirt domain handle (`virDomainPtr`), freed when the last reference goes. Keeps its connection alive.
///
/// `@unchecked Sendable`: libvirt's domain objects are reference-counted and safe to use from any thread.
public final class Domain: @unchecked Sendable {
    let pointer: virDomainPtr
    public let connection: Connection

    init(_ pointer: virDomainPtr, connection: Connection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit {
        virDomainFree(pointer)
    }

    public var name: String {
        virDomainGetName(pointer).map { String(cString: $0) } ?? ""
    }

    public func uuid() throws(LibvirtError) -> String {
        var buffer = [CChar](repeating: 0, count: Int(VIR_UUID_STRING_BUFLEN))
        try check(virDomainGetUUIDString(pointer, &buffer), "virDomainGetUUIDString")
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    public func state() throws(LibvirtError) -> DomainState {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(pointer, &state, &reason, 0), "virDomainGetState(\(name))")
        return DomainState(rawValue: state) ?? .noState
    }

    public func isActive() throws(LibvirtError) -> Bool {
        try check(virDomainIsActive(pointer), "virDomainIsActive(\(name))") == 1
    }

    public func isPersistent() throws(LibvirtError) -> Bool {
        try check(virDomainIsPersistent(pointer), "virDomainIsPersistent(\(name))") == 1
    }

    /// The domain XML; `inactive` gives the persistent definition rather than the live one.
    public func xml(inactive: Bool = false) throws(LibvirtError) -> String {
        let flags = inactive ? VIR_DOMAIN_XML_INACTIVE.rawValue : 0
        return try takeString(virDomainGetXMLDesc(pointer, flags), "virDomainGetXMLDesc(\(name))")
    }

    /// Starts a defined domain.
    public func start() throws(LibvirtError) {
        try check(virDomainCreate(pointer), "virDomainCreate(\(name))")
    }

    /// Asks the guest to power off: through the guest agent when `agent`, else (or if that fails) ACPI.
    public func shutdown(agent: Bool = true) throws(LibvirtError) {
        var flags = VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN.rawValue
        if agent { flags |= VIR_DOMAIN_SHUTDOWN_GUEST_AGENT.rawValue }
        try check(virDomainShutdownFlags(pointer, flags), "virDomainShutdownFlags(\(name))")
    }

    /// Stops the domain at once, like pulling the plug.
    public func destroy() throws(LibvirtError) {
        try check(virDomainDestroy(pointer), "virDomainDestroy(\(name))")
    }

    /// What `undefine` also removes.
    public struct UndefineOptions: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        public static let managedSave = UndefineOptions(rawValue: VIR_DOMAIN_UNDEFINE_MANAGED_SAVE.rawValue)
        public static let snapshotsMetadata = UndefineOptions(rawValue: VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA.rawValue)
        public static let checkpointsMetadata = UndefineOptions(
            rawValue: VIR_DOMAIN_UNDEFINE_CHECKPOINTS_METADATA.rawValue)
        /// Also removes a UEFI guest's variable store (its NVRAM copy); without it, such a domain cannot be undefined.
        public static let nvram = UndefineOptions(rawValue: VIR_DOMAIN_UNDEFINE_NVRAM.rawValue)
        public static let all: UndefineOptions = [.managedSave, .snapshotsMetadata, .checkpointsMetadata, .nvram]
    }

    /// Removes the persistent definition; by default with any snapshot and checkpoint metadata libvirt keeps
    /// for it (a domain with checkpoints cannot be undefined otherwise) and its NVRAM file.
    public func undefine(_ options: UndefineOptions = .all) throws(LibvirtError) {
        try check(virDomainUndefineFlags(pointer, options.rawValue), "virDomainUndefineFlags(\(name))")
    }

    /// Sends one JSON command to the qemu guest agent and returns its JSON reply.
    /// `timeoutSeconds` follows libvirt: -2 blocks, -1 default, 0 no wait, >0 seconds.
    public func agentCommand(_ json: String, timeoutSeconds: Int32 = 30) throws(LibvirtError) -> String {
        try takeString(
            virDomainQemuAgentCommand(pointer, json, timeoutSeconds, 0),
            "virDomainQemuAgentCommand(\(name))")
    }

    /// Hot-plugs (and, with `persistent`, also records in the definition) a device given as XML.
    public func attachDevice(xml: String, live: Bool, persistent: Bool) throws(LibvirtError) {
        var flags: UInt32 = 0
        if live { flags |= VIR_DOMAIN_AFFECT_LIVE.rawValue }
        if persistent { flags |= VIR_DOMAIN_AFFECT_CONFIG.rawValue }
        try check(virDomainAttachDeviceFlags(pointer, xml, flags), "virDomainAttachDeviceFlags(\(name))")
    }

    public func detachDevice(xml: String, live: Bool, persistent: Bool) throws(LibvirtError) {
        var flags: UInt32 = 0
        if live { flags |= VIR_DOMAIN_AFFECT_LIVE.rawValue }
        if persistent { flags |= VIR_DOMAIN_AFFECT_CONFIG.rawValue }
        try check(virDomainDetachDeviceFlags(pointer, xml, flags), "virDomainDetachDeviceFlags(\(name))")
    }
}

/// `virDomainState`.
public enum DomainState: Int32, Sendable, CustomStringConvertible {
    case noState = 0
    case running, blocked, paused, shutdown, shutoff, crashed, pmSuspended

    public var description: String {
        switch self {
        case .noState: "nostate"
        case .running: "running"
        case .blocked: "blocked"
        case .paused: "paused"
        case .shutdown: "shutting-down"
        case .shutoff: "shut-off"
        case .crashed: "crashed"
        case .pmSuspended: "pm-suspended"
        }
    }
}
