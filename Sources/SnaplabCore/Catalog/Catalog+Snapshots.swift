import Foundation
import GRDB

extension Catalog {
    /// Records new pending snapshots, unless one of their volumes already has a snapshot in progress (checked
    /// in the same transaction, so two requests cannot both start one).
    public func insertPending(_ snapshots: [Snapshot]) async throws(SnaplabError) {
        try await write { db in
            if let busy = try Self.pending(of: snapshots.map(\.volumeId)).fetchOne(db) {
                throw SnaplabError(
                    .conflict,
                    "volume \(busy.volumeId) already has snapshot \(busy.id) in progress (\(Int(busy.progress))%); wait for it",
                    subject: busy.volumeId)
            }
            for snapshot in snapshots { try snapshot.insert(db) }
        }
    }

    public func insert(_ snapshot: Snapshot) async throws(SnaplabError) {
        try await write { db in try snapshot.insert(db) }
    }

    public func update(_ snapshot: Snapshot) async throws(SnaplabError) {
        try await write { db in try snapshot.update(db) }
    }

    /// Inserts or replaces (catalog rebuild).
    public func upsert(_ snapshot: Snapshot) async throws(SnaplabError) {
        try await write { db in try snapshot.save(db) }
    }

    public func snapshot(_ id: String) async throws(SnaplabError) -> Snapshot {
        try ResourceID.validate(id, as: .snapshot)
        let snapshot = try await read { db in try Snapshot.fetchOne(db, key: id) }
        guard let snapshot else {
            throw SnaplabError.notFound("snapshot", id, hint: "`snaplab snapshot list` shows the snapshots")
        }
        return snapshot
    }

    public func findSnapshot(_ id: String) async throws(SnaplabError) -> Snapshot? {
        try await read { db in try Snapshot.fetchOne(db, key: id) }
    }

    public func snapshots() async throws(SnaplabError) -> [Snapshot] {
        try await read { db in try Snapshot.order(Snapshot.Columns.createdAt, Snapshot.Columns.id).fetchAll(db) }
    }

    /// The snapshots (of any volume: a set shares one) recorded with this checkpoint.
    public func snapshots(usingCheckpoint checkpoint: String) async throws(SnaplabError) -> [Snapshot] {
        try await read { db in try Snapshot.filter(Column("checkpoint") == checkpoint).fetchAll(db) }
    }

    public func snapshots(state: SnapshotState) async throws(SnaplabError) -> [Snapshot] {
        try await read { db in
            try Snapshot.filter(Snapshot.Columns.state == state.rawValue).order(Snapshot.Columns.createdAt).fetchAll(db)
        }
    }

    public func pendingSnapshots(of volumeIds: [String]) async throws(SnaplabError) -> [Snapshot] {
        try await read { db in try Self.pending(of: volumeIds).fetchAll(db) }
    }

    /// The snapshots of these volumes still being taken.
    private static func pending(of volumeIds: [String]) -> QueryInterfaceRequest<Snapshot> {
        Snapshot.filter(Snapshot.Columns.state == SnapshotState.pending.rawValue)
            .filter(volumeIds.contains(Snapshot.Columns.volumeId))
    }

    /// Deletes a snapshot's row, unless a lock in force protects it.
    public func deleteSnapshot(_ id: String) async throws(SnaplabError) {
        _ = try await write { db in
            try Self.checkUnlocked(db, id, at: Date())
            return try Snapshot.deleteOne(db, key: id)
        }
    }

    public func updateProgress(_ id: String, progress: Double) async throws(SnaplabError) {
        try await write { db in
            try db.execute(
                sql: "UPDATE snapshots SET progress = ? WHERE id = ? AND state = 'pending'",
                arguments: [progress, id])
        }
    }

    /// Records a completed snapshot (`pending` → `completed`, with what `change` sets from the copy) and moves
    /// its volume's changed-block tracking base to it, atomically.
    @discardableResult
    public func completeSnapshot(
        _ id: String, bytesNew: UInt64? = nil, _ change: @Sendable @escaping (inout Snapshot) -> Void
    ) async throws(SnaplabError) -> Snapshot {
        try await write { db in
            guard var snapshot = try Snapshot.fetchOne(db, key: id) else {
                throw SnaplabError(.notFound, "snapshot \(id) was deleted while it was being copied")
            }
            try snapshot.move(to: .completed)
            change(&snapshot)
            // Only the measurements read it (the trigger that records the completion below).
            if let bytesNew {
                try db.execute(sql: "UPDATE snapshots SET bytesNew = ? WHERE id = ?", arguments: [bytesNew, id])
            }
            try snapshot.update(db)
            if var volume = try Volume.fetchOne(db, key: snapshot.volumeId) {
                volume.lastSnapshotId = snapshot.id
                volume.cbtBase = snapshot.checkpoint
                try volume.update(db)
            }
            return snapshot
        }
    }

    /// Marks a pending snapshot `error` with why; its checkpoint and worker are forgotten.
    @discardableResult
    public func failSnapshot(_ id: String, reason: String, keepCheckpoint: Bool = true) async throws(SnaplabError)
        -> Snapshot
    {
        try await transition(Snapshot.self, id, to: .error) { snapshot in
            snapshot.errorMessage = reason
            if !keepCheckpoint { snapshot.checkpoint = nil }
            snapshot.workerPid = nil
            snapshot.workerStartTime = nil
        }
    }

    public func setting(_ key: String) async throws(SnaplabError) -> String? {
        try await read { db in
            try String.fetchOne(db, sql: "SELECT value FROM settings WHERE key = ?", arguments: [key])
        }
    }

    public func setSetting(_ key: String, _ value: String) async throws(SnaplabError) {
        try await write { db in
            try db.execute(
                sql:
                    "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                arguments: [key, value])
        }
    }
}

extension Catalog {
    /// After a snapshot is deleted, its volume's next snapshot cannot build on it: it becomes a full copy.
    public func forgetLastSnapshot(_ snapshotId: String, of volumeId: String) async throws(SnaplabError) {
        try await write { db in
            guard var volume = try Volume.fetchOne(db, key: volumeId), volume.lastSnapshotId == snapshotId else {
                return
            }
            volume.lastSnapshotId = nil
            try volume.update(db)
        }
    }
}
