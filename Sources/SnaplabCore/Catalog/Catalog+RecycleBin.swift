import Foundation
import GRDB

/// The recycle bin's catalog side: deleted snapshots' rows kept apart from `snapshots` (so no listing, policy
/// or image sees them) until recovered or purged, and the rules that send snapshots there.
enum RecycleBinTables {
    static func create(_ db: Database) throws {
        try db.alter(table: "snapshots") { table in
            table.add(column: "lock", .jsonText)
        }
        try db.create(table: "recycleBinRules") { table in
            table.primaryKey("id", .text)
            table.column("retentionDays", .integer).notNull()
            table.column("resourceTags", .jsonText).notNull()
            table.column("description", .text)
            table.column("createdAt", .datetime).notNull()
        }
        try db.create(table: "recycleBin") { table in
            table.primaryKey("snapshotId", .text)
            table.column("volumeId", .text).notNull()
            table.column("row", .jsonText).notNull()
            table.column("deletedAt", .datetime).notNull()
            table.column("retainUntil", .datetime).notNull().indexed()
            table.column("ruleId", .text).notNull()
        }
    }

    /// ISO 8601 with fractional seconds, so a recovered snapshot keeps its exact times; plain ISO 8601 is read too.
    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))
        }
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            if let date = try? Date(
                text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true))
            {
                return date
            }
            return try Date(text, strategy: .iso8601)
        }
        return decoder
    }()

    static func recycled(_ row: Row) throws -> RecycledSnapshot {
        let text: String = row["row"]
        return RecycledSnapshot(
            snapshot: try decoder.decode(Snapshot.self, from: Data(text.utf8)), deletedAt: row["deletedAt"],
            retainUntil: row["retainUntil"], ruleId: row["ruleId"])
    }
}

extension RecycleBinRule: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "recycleBinRules"
}

extension Catalog {
    public func insert(_ rule: RecycleBinRule) async throws(SnaplabError) {
        try await write { db in try rule.insert(db) }
    }

    public func recycleBinRules() async throws(SnaplabError) -> [RecycleBinRule] {
        try await read { db in try RecycleBinRule.order(Column("createdAt"), Column("id")).fetchAll(db) }
    }

    public func deleteRecycleBinRule(_ id: String) async throws(SnaplabError) {
        let deleted = try await write { db in try RecycleBinRule.deleteOne(db, key: id) }
        guard deleted else {
            throw SnaplabError.notFound("recycle bin rule", id, hint: "`snaplab recycle-bin rules` lists them")
        }
    }

    /// Moves a snapshot's row into the bin, in one transaction with forgetting it as its volume's last snapshot.
    public func recycle(_ snapshot: Snapshot, rule: RecycleBinRule, at now: Date) async throws(SnaplabError)
        -> RecycledSnapshot
    {
        let recycled = RecycledSnapshot(
            snapshot: snapshot, deletedAt: now,
            retainUntil: now.addingTimeInterval(Double(rule.retentionDays) * 86_400),
            ruleId: rule.id)
        try await putInRecycleBin(recycled, unlessLockedAt: now)
        return recycled
    }

    /// Puts an entry into the bin (taking the snapshot's row out of `snapshots`); `catalog rebuild` uses it with
    /// the entries the store remembers.
    public func putInRecycleBin(_ entry: RecycledSnapshot, unlessLockedAt now: Date? = nil) async throws(SnaplabError) {
        let snapshot = entry.snapshot
        let row = String(decoding: try RecycleBinTables.encoder.encodeForCatalog(snapshot), as: UTF8.self)
        try await write { db in
            if let now { try Self.checkUnlocked(db, snapshot.id, at: now) }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO recycleBin (snapshotId, volumeId, row, deletedAt, retainUntil, ruleId)
                    VALUES (?, ?, ?, ?, ?, ?)
                    """,
                arguments: [snapshot.id, snapshot.volumeId, row, entry.deletedAt, entry.retainUntil, entry.ruleId])
            try Snapshot.deleteOne(db, key: snapshot.id)
            try db.execute(
                sql: "UPDATE volumes SET lastSnapshotId = NULL WHERE id = ? AND lastSnapshotId = ?",
                arguments: [snapshot.volumeId, snapshot.id])
        }
    }

    /// The bin, oldest deletion first.
    public func recycledSnapshots() async throws(SnaplabError) -> [RecycledSnapshot] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM recycleBin ORDER BY deletedAt, snapshotId")
                .map(RecycleBinTables.recycled)
        }
    }

    public func recycledSnapshot(_ id: String) async throws(SnaplabError) -> RecycledSnapshot? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM recycleBin WHERE snapshotId = ?", arguments: [id])
                .map(RecycleBinTables.recycled)
        }
    }

    /// Puts a recycled snapshot's row back among the snapshots.
    public func recover(_ id: String) async throws(SnaplabError) -> Snapshot {
        try await write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM recycleBin WHERE snapshotId = ?", arguments: [id])
            else {
                throw SnaplabError.notFound(
                    "snapshot in the recycle bin", id, hint: "`snaplab snapshot list --recycle-bin` shows the bin")
            }
            let snapshot = try RecycleBinTables.recycled(row).snapshot
            try snapshot.insert(db)
            try db.execute(sql: "DELETE FROM recycleBin WHERE snapshotId = ?", arguments: [id])
            return snapshot
        }
    }

    /// Forgets a bin entry (its retention ended; the store's copy goes next).
    public func removeFromRecycleBin(_ id: String) async throws(SnaplabError) {
        try await write { db in try db.execute(sql: "DELETE FROM recycleBin WHERE snapshotId = ?", arguments: [id]) }
    }

    /// Changes a snapshot's lock in one transaction: `change` gets the row as it is now and returns the new lock
    /// (nil: none), or throws to refuse.
    public func changeLock(_ id: String, _ change: @Sendable @escaping (Snapshot) throws -> SnapshotLock?)
        async throws(SnaplabError) -> Snapshot
    {
        try await write { db in
            guard var snapshot = try Snapshot.fetchOne(db, key: id) else {
                throw SnaplabError.notFound("snapshot", id, hint: "`snaplab snapshot list` shows the snapshots")
            }
            snapshot.lock = try change(snapshot)
            try snapshot.update(db)
            return snapshot
        }
    }

    /// Refuses, inside a write transaction, to remove a snapshot whose lock is in force (so a lock set after a
    /// delete looked is still honoured).
    static func checkUnlocked(_ db: Database, _ id: String, at now: Date) throws {
        guard let lock = try Snapshot.fetchOne(db, key: id)?.lock, lock.isActive(at: now) else { return }
        throw SnaplabError.locked(id, lock, at: now)
    }
}

extension SnaplabError {
    static func locked(_ id: String, _ lock: SnapshotLock, at now: Date) -> SnaplabError {
        let until = ISO8601DateFormatter().string(from: lock.expiresAt)
        let what =
            switch lock.state(at: now) {
            case .governance: "a governance lock until \(until); `snaplab snapshot unlock \(id)` lifts it"
            case .complianceCoolOff:
                "a compliance lock until \(until), still in its cool-off; `snaplab snapshot unlock \(id)` lifts it now"
            default: "a compliance lock until \(until): nobody can delete or unlock it before then"
            }
        return SnaplabError(.conflict, "snapshot \(id) has \(what)", subject: id)
    }
}

extension JSONEncoder {
    func encodeForCatalog<T: Encodable>(_ value: T) throws(SnaplabError) -> Data {
        do {
            return try encode(value)
        } catch {
            throw SnaplabError(.internal, "could not encode \(T.self) for the catalog: \(error)")
        }
    }
}
