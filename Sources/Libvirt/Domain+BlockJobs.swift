import CLibvirt

/// Where a block job stands (`virDomainGetBlockJobInfo`).
public struct BlockJobProgress: Sendable, Equatable {
    public let current: UInt64
    public let end: UInt64

    /// A copy job has mirrored everything and now follows the guest's writes: it can pivot.
    public var isReady: Bool { end > 0 && current == end }
}

/// Why a domain is paused (`virDomainPausedReason`), for the reasons the lab acts on.
public enum PausedReason: Int32, Sendable {
    case unknown = 0
    case user = 1
    case ioError = 5
}

extension Domain {
    /// Starts a shallow copy of `disk`'s top layer into the existing image `destinationXML` names (whose
    /// backing chain must hold the same data as the disk's), as a job that does not need a transient domain.
    /// Pivot with `finishBlockCopy` once `blockJob` says it is ready.
    public func startShallowBlockCopy(disk: String, destinationXML: String) throws(LibvirtError) {
        let flags =
            VIR_DOMAIN_BLOCK_COPY_SHALLOW.rawValue | VIR_DOMAIN_BLOCK_COPY_REUSE_EXT.rawValue
            | VIR_DOMAIN_BLOCK_COPY_TRANSIENT_JOB.rawValue
        try check(
            virDomainBlockCopy(pointer, disk, destinationXML, nil, 0, flags), "virDomainBlockCopy(\(name), \(disk))")
    }

    /// The disk's block job, or nil when it has none.
    public func blockJob(disk: String) throws(LibvirtError) -> BlockJobProgress? {
        var info = virDomainBlockJobInfo()
        let found = try check(
            virDomainGetBlockJobInfo(pointer, disk, &info, 0), "virDomainGetBlockJobInfo(\(name), \(disk))")
        guard found == 1 else { return nil }
        return BlockJobProgress(current: info.cur, end: info.end)
    }

    /// Ends the disk's copy job: `pivot` switches the disk to the copy (live and persistent definitions),
    /// otherwise the copy is abandoned and the disk stays where it was.
    public func finishBlockCopy(disk: String, pivot: Bool) throws(LibvirtError) {
        let flags = pivot ? VIR_DOMAIN_BLOCK_JOB_ABORT_PIVOT.rawValue : 0
        try check(virDomainBlockJobAbort(pointer, disk, flags), "virDomainBlockJobAbort(\(name), \(disk))")
    }

    /// Resumes a paused domain.
    public func resume() throws(LibvirtError) {
        try check(virDomainResume(pointer), "virDomainResume(\(name))")
    }

    /// Why the domain is paused; nil when it is not paused.
    public func pausedReason() throws(LibvirtError) -> PausedReason? {
        var state: Int32 = 0
        var reason: Int32 = 0
        try check(virDomainGetState(pointer, &state, &reason, 0), "virDomainGetState(\(name))")
        guard state == VIR_DOMAIN_PAUSED.rawValue else { return nil }
        return PausedReason(rawValue: reason) ?? .unknown
    }
}
