import Libvirt

extension Hypervisor {
    /// The guest's mounted filesystems (through the guest agent).
    public func filesystems(domain name: String) async throws(SnaplabError) -> [GuestFilesystem] {
        try await call("listing filesystems of \(name)") { try $0.lookupDomain(name: name).filesystems() }
    }

    public func freeze(domain name: String, mountpoints: [String]) async throws(SnaplabError) -> Int {
        try await call("freezing \(mountpoints.joined(separator: ", ")) in \(name)") { connection in
            try connection.lookupDomain(name: name).freezeFilesystems(mountpoints)
        }
    }

    public func thaw(domain name: String) async throws(SnaplabError) {
        _ = try await call("thawing filesystems of \(name)") { try $0.lookupDomain(name: name).thawFilesystems() }
    }

    func beginBackup(domain name: String, backup: BackupXML, checkpoint: CheckpointXML?) async throws(SnaplabError) {
        let backupXML = backup.render()
        let checkpointXML = checkpoint?.render()
        try await call("starting a backup job on \(name)") { connection in
            try connection.lookupDomain(name: name).beginBackup(xml: backupXML, checkpointXML: checkpointXML)
        }
    }

    /// Ends the domain's backup job if one runs; a domain that is gone or idle is fine.
    public func endBackup(domain name: String) async throws(SnaplabError) {
        try await call("ending the backup job on \(name)") { connection in
            guard let domain = try connection.findDomain(name: name), try domain.isActive(),
                domain.activeBackupXML() != nil
            else { return }
            try domain.abortJob()
        }
    }

    public func hasBackupJob(domain name: String) async throws(SnaplabError) -> Bool {
        try await call("reading jobs of \(name)") { connection in
            guard let domain = try connection.findDomain(name: name), try domain.isActive() else { return false }
            return domain.activeBackupXML() != nil
        }
    }

    public func checkpointNames(domain name: String) async throws(SnaplabError) -> [String] {
        try await call("listing checkpoints of \(name)") { connection in
            try connection.findDomain(name: name)?.checkpointNames() ?? []
        }
    }

    public func deleteCheckpoint(domain name: String, checkpoint: String, metadataOnly: Bool)
        async throws(SnaplabError)
    {
        try await call("deleting checkpoint \(checkpoint) of \(name)") { connection in
            try connection.lookupDomain(name: name).deleteCheckpoint(named: checkpoint, metadataOnly: metadataOnly)
        }
    }

    func redefineCheckpoint(domain name: String, checkpoint: CheckpointXML) async throws(SnaplabError) {
        let xml = checkpoint.render()
        _ = try await call("redefining checkpoint \(checkpoint.name) of \(name)") { connection in
            try connection.lookupDomain(name: name).createCheckpoint(xml: xml, redefine: true)
        }
    }
}
