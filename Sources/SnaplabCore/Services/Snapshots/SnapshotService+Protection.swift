import Foundation

/// What `snapshot delete` did.
public enum SnapshotDeletion: Sendable, Equatable {
    case deleted
    /// Moved to the recycle bin: recoverable until `retainUntil`.
    case recycled(RecycledSnapshot)
}

/// Locks (EBS snapshot lock) and the recycle bin (EBS Recycle Bin): what keeps a snapshot from being destroyed
/// early. Both are recorded in the catalog and, beside the snapshot's manifest, in the store (so a catalog
/// rebuilt from the store has them again).
extension SnapshotService {
    /// Locks a completed snapshot, or changes its lock as far as the lock allows.
    public func lock(_ id: String, _ request: SnapshotLockRequest, at now: Date = Date()) async throws(SnaplabError)
        -> Snapshot
    {
        try ResourceID.validate(id, as: .snapshot)
        let locked = try await catalog.changeLock(id) { snapshot in
            guard snapshot.state == .completed else {
                throw SnaplabError(
                    .invalidState,
                    "snapshot \(id) is \(snapshot.state.rawValue); only completed snapshots can be locked")
            }
            return try request.lock(replacing: snapshot.lock, snapshotId: id, at: now)
        }
        try await recordLock(locked)
        try await holdInStore(locked, at: now)
        return locked
    }

    /// On a bucket with object lock, the snapshot's objects are retained too: compliance once past its
    /// cool-off, governance before (so `unlock` in the cool-off is not contradicted by the bucket).
    private func holdInStore(_ snapshot: Snapshot, at now: Date) async throws(SnaplabError) {
        guard let lock = snapshot.lock else { return }
        do throws(SnaplabError) {
            if let held = try await store.retain(
                snapshot.id, until: lock.expiresAt, compliance: lock.state(at: now) == .compliance)
            {
                logger.info(
                    "object lock holds \(held) objects until \(ISO8601DateFormatter().string(from: lock.expiresAt))",
                    metadata: ["snapshot": "\(snapshot.id)"])
            }
        } catch {
            throw SnaplabError(
                error.code,
                "snapshot \(snapshot.id) is locked in the catalog, but the bucket's object lock failed (\(error.message)); run `snaplab snapshot lock` again",
                cause: error)
        }
    }

    /// Lifts a governance lock, or a compliance lock still in its cool-off.
    public func unlock(_ id: String, at now: Date = Date()) async throws(SnaplabError) -> Snapshot {
        try ResourceID.validate(id, as: .snapshot)
        let unlocked = try await catalog.changeLock(id) { snapshot in
            guard let lock = snapshot.lock else {
                throw SnaplabError(.invalidState, "snapshot \(id) is not locked")
            }
            guard lock.isAdjustable(at: now) else { throw SnaplabError.locked(id, lock, at: now) }
            return nil
        }
        try await recordLock(unlocked)
        try await releaseInStore(id, at: now)
        return unlocked
    }

    /// On a bucket with object lock, the lifted lock's governance retention goes too (within a minute), except
    /// on packs another lock still needs.
    private func releaseInStore(_ id: String, at now: Date) async throws(SnaplabError) {
        var others: [String: Date] = [:]
        for snapshot in try await locked(at: now) where snapshot.id != id {
            if let lock = snapshot.lock { others[snapshot.id] = lock.expiresAt }
        }
        do throws(SnaplabError) {
            if let released = try await store.release(id, keepingFor: others) {
                logger.info("object lock released on \(released) objects", metadata: ["snapshot": "\(id)"])
            }
        } catch {
            throw SnaplabError(
                error.code,
                "snapshot \(id) is unlocked in the catalog, but the bucket's retention could not be lifted (\(error.message)); its objects stay held until the lock's old date",
                cause: error)
        }
    }

    /// Snapshots whose lock is in force (or every locked one with `includeExpired`).
    public func locked(includeExpired: Bool = false, at now: Date = Date()) async throws(SnaplabError) -> [Snapshot] {
        try await catalog.snapshots().filter { snapshot in
            guard let lock = snapshot.lock else { return false }
            return includeExpired || lock.isActive(at: now)
        }
    }

    /// Compliance locks whose cool-off has ended are held in the bucket as compliance from now on (they were
    /// held as governance, which `unlock` could still lift). Returns the snapshots it did; `done` are skipped.
    public func holdEndedCoolOffs(skipping done: Set<String>, at now: Date = Date()) async throws(SnaplabError)
        -> [String]
    {
        var held: [String] = []
        for snapshot in try await locked(at: now) where !done.contains(snapshot.id) {
            guard let lock = snapshot.lock, lock.coolOffEndsAt != nil, lock.state(at: now) == .compliance else {
                continue
            }
            try await holdInStore(snapshot, at: now)
            held.append(snapshot.id)
        }
        return held
    }

    private func recordLock(_ snapshot: Snapshot) async throws(SnaplabError) {
        if let lock = snapshot.lock {
            try await store.putDocument(
                kind: StoreService.lockDocumentKind, id: snapshot.id,
                try RecycleBinTables.encoder.encodeForCatalog(lock))
        } else {
            try await store.deleteDocument(kind: StoreService.lockDocumentKind, id: snapshot.id)
        }
    }

    func recycle(_ snapshot: Snapshot, rule: RecycleBinRule, at now: Date) async throws(SnaplabError)
        -> RecycledSnapshot
    {
        let recycled = try await catalog.recycle(snapshot, rule: rule, at: now)
        // The catalog first: killed before the store's note, a rebuilt catalog shows the snapshot as completed
        // again (nothing lost), never a bin entry whose copy is gone.
        try await store.putDocument(
            kind: StoreService.recycleBinDocumentKind, id: snapshot.id,
            try RecycleBinTables.encoder.encodeForCatalog(recycled))
        logger.notice(
            "moved to the recycle bin until \(ISO8601DateFormatter().string(from: recycled.retainUntil))",
            metadata: ["snapshot": "\(snapshot.id)", "rule": "\(rule.id)"])
        return recycled
    }

    /// The recycle bin, oldest deletion first.
    public func recycleBin() async throws(SnaplabError) -> [RecycledSnapshot] {
        try await catalog.recycledSnapshots()
    }

    /// Takes a snapshot out of the bin: it is listed, restorable and deletable again.
    public func recover(_ id: String) async throws(SnaplabError) -> Snapshot {
        try ResourceID.validate(id, as: .snapshot)
        let snapshot = try await catalog.recover(id)
        try await store.deleteDocument(kind: StoreService.recycleBinDocumentKind, id: id)
        return snapshot
    }

    /// Deletes for good what the bin held past its retention (the store's copy; `store gc` frees the chunks).
    @discardableResult
    public func purgeRecycleBin(at now: Date = Date()) async throws(SnaplabError) -> [String] {
        var purged: [String] = []
        for entry in try await catalog.recycledSnapshots() where entry.retainUntil <= now {
            let id = entry.snapshot.id
            try await catalog.removeFromRecycleBin(id)
            try await store.deleteSnapshot(id)
            try await store.deleteDocument(kind: StoreService.recycleBinDocumentKind, id: id)
            if entry.snapshot.lock != nil {
                try await store.deleteDocument(kind: StoreService.lockDocumentKind, id: id)
            }
            purged.append(id)
        }
        return purged
    }

    public func createRecycleBinRule(_ rule: RecycleBinRule) async throws(SnaplabError) -> RecycleBinRule {
        try rule.validate()
        try TagRules.checkUserTags(rule.resourceTags)
        try await catalog.insert(rule)
        return rule
    }

    public func recycleBinRules() async throws(SnaplabError) -> [RecycleBinRule] {
        try await catalog.recycleBinRules()
    }

    public func deleteRecycleBinRule(_ id: String) async throws(SnaplabError) {
        try ResourceID.validate(id, as: .recycleBinRule)
        try await catalog.deleteRecycleBinRule(id)
    }
}
