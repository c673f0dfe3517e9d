import Foundation

/// Places where a test can kill the process, to prove that whatever is interrupted there is settled by the
/// next command: compiled in, inert unless `SNAPLAB_FAULT` names one. Reaching the named point prints
/// `fault point NAME reached` on stderr and sends the process SIGKILL (no handler, no clean-up runs), or SIGINT.
public enum FaultPoint: String, CaseIterable, Sendable {
    /// The guest's filesystems are frozen; the backup job has not started.
    case captureAfterFreeze = "capture-after-freeze"
    /// The backup job (and its checkpoint) exists; the guest is still frozen.
    case captureAfterBackupBegin = "capture-after-backup-begin"
    /// The guest is thawed; the snapshot rows do not say what was captured yet.
    case captureAfterThaw = "capture-after-thaw"
    /// Part of the volume is in the store; the copy is under way.
    case copyMidway = "copy-midway"
    /// Every chunk is durable and indexed; the manifest is not written.
    case commitBeforeManifest = "commit-before-manifest"
    /// The manifest is in the store; the catalog still says `pending`.
    case commitBeforeCatalog = "commit-before-catalog"
    /// A deleted snapshot has left the catalog; its manifest is still in the store.
    case deleteBetweenCatalogAndStore = "delete-between-catalog-and-store"
    /// Garbage collection wrote its new index objects; the old ones and the dead packs are still there.
    case gcAfterNewIndexes = "gc-after-new-indexes"
    /// Garbage collection removed the old index objects; the dead packs are still there.
    case gcBeforePackDeletion = "gc-before-pack-deletion"
    /// A restore has written part of the new volume.
    case restoreMidway = "restore-midway"
    /// A base for an image is partly hydrated.
    case hydrationMidway = "hydration-midway"
    /// An image's boot snapshot is complete; the image is still `pending`.
    case imageBeforeAvailable = "image-before-available"
    /// A policy run has taken its snapshots; pruning has not run.
    case policyBeforePrune = "policy-before-prune"

    public static let environmentVariable = "SNAPLAB_FAULT"

    /// The point this process dies at, if any.
    public static let armed: FaultPoint? = ProcessInfo.processInfo.environment[environmentVariable].flatMap {
        FaultPoint(rawValue: $0)
    }

    /// The signal sent at the armed point: SIGKILL, or SIGINT when `SNAPLAB_FAULT_SIGNAL=INT` (what a Ctrl-C
    /// sends, which the process may hold off while it must).
    static let signal: Int32 = ProcessInfo.processInfo.environment["SNAPLAB_FAULT_SIGNAL"] == "INT" ? SIGINT : SIGKILL

    /// Dies here when this is the armed point.
    @inline(__always)
    public static func reach(_ point: FaultPoint) {
        guard armed == point else { return }
        FileHandle.standardError.write(Data("fault point \(point.rawValue) reached\n".utf8))
        kill(getpid(), signal)
    }
}
