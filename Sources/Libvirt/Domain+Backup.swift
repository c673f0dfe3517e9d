import CLibvirt
import Foundation

extension Domain {
    /// Starts a backup job (`<domainbackup>` XML); in pull mode qemu serves the disks at this instant over NBD.
    /// With `checkpointXML`, libvirt creates that checkpoint at the same instant.
    public func beginBackup(xml: String, checkpointXML: String?) throws(LibvirtError) {
        try check(virDomainBackupBegin(pointer, xml, checkpointXML, 0), "virDomainBackupBegin(\(name))")
    }

    /// The running backup job's XML, or nil when no backup job is active.
    public func activeBackupXML() -> String? {
        guard let text = virDomainBackupGetXMLDesc(pointer, 0) else {
            virResetLastError()
            return nil
        }
        defer { free(text) }
        return String(cString: text)
    }

    /// Ends the domain's current job (a pull-mode backup ends this way once its export has been read).
    public func abortJob() throws(LibvirtError) {
        try check(virDomainAbortJob(pointer), "virDomainAbortJob(\(name))")
    }

    /// Creates a checkpoint; with `redefine`, only records metadata for bitmaps that already exist.
    @discardableResult
    public func createCheckpoint(xml: String, redefine: Bool = false) throws(LibvirtError) -> String {
        let flags = redefine ? VIR_DOMAIN_CHECKPOINT_CREATE_REDEFINE.rawValue : 0
        let checkpoint = try check(
            virDomainCheckpointCreateXML(pointer, xml, flags),
            "virDomainCheckpointCreateXML(\(name))")
        defer { virDomainCheckpointFree(checkpoint) }
        return virDomainCheckpointGetName(checkpoint).map { String(cString: $0) } ?? ""
    }

    public func checkpointNames() throws(LibvirtError) -> [String] {
        var list: UnsafeMutablePointer<virDomainCheckpointPtr?>?
        let count = try check(virDomainListAllCheckpoints(pointer, &list, 0), "virDomainListAllCheckpoints(\(name))")
        defer { free(list) }
        return (0..<Int(count)).compactMap { index in
            guard let checkpoint = list?[index] else { return nil }
            defer { virDomainCheckpointFree(checkpoint) }
            return virDomainCheckpointGetName(checkpoint).map { String(cString: $0) }
        }
    }

    /// Deletes a checkpoint: with `metadataOnly`, libvirt forgets it but leaves the disks' bitmaps alone (the
    /// only way on a shut-off domain); otherwise it also removes its bitmaps from the running disks.
    public func deleteCheckpoint(named checkpointName: String, metadataOnly: Bool) throws(LibvirtError) {
        let checkpoint = try check(
            virDomainCheckpointLookupByName(pointer, checkpointName, 0),
            "virDomainCheckpointLookupByName(\(checkpointName))")
        defer { virDomainCheckpointFree(checkpoint) }
        let flags = metadataOnly ? VIR_DOMAIN_CHECKPOINT_DELETE_METADATA_ONLY.rawValue : 0
        try check(virDomainCheckpointDelete(checkpoint, flags), "virDomainCheckpointDelete(\(checkpointName))")
    }
}
