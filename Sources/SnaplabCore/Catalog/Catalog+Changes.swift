import Foundation
import GRDB

/// What changed in the catalog after a cursor: the resources themselves (as they are now) and the ids of
/// those deleted. `reset` says the cursor is too old (or too much changed) to tell: reload everything.
public struct CatalogChanges: Sendable, Codable {
    public var cursor: Int64
    public var reset: Bool
    public var volumes: [Volume] = []
    public var instances: [Instance] = []
    public var snapshots: [Snapshot] = []
    public var images: [MachineImage] = []
    public var policies: [Policy] = []
    public var deleted: [DeletedResource] = []

    public init(cursor: Int64, reset: Bool) {
        self.cursor = cursor
        self.reset = reset
    }

    public struct DeletedResource: Sendable, Codable, Equatable {
        /// `volume`, `instance`, `snapshot`, `image` or `policy`.
        public var kind: String
        public var id: String
    }

    public var isEmpty: Bool {
        !reset && volumes.isEmpty && instances.isEmpty && snapshots.isEmpty && images.isEmpty && policies.isEmpty
            && deleted.isEmpty
    }
}

extension Catalog {
    /// The latest change's sequence number (0 before any): hand it back to `changes(since:)`.
    public func changeCursor() async throws(SnaplabError) -> Int64 {
        try await read { db in try Self.cursor(db) }
    }

    /// Every resource inserted, updated or deleted after `cursor`, read in one transaction. More than `limit`
    /// changes, or a cursor older than the deletions still remembered, answers `reset`.
    public func changes(since cursor: Int64, limit: Int = 1000) async throws(SnaplabError) -> CatalogChanges {
        try await read { db in
            let latest = try Self.cursor(db)
            let floor = try Int64.fetchOne(db, sql: "SELECT seq FROM changeFloor") ?? 0
            if cursor < floor || cursor > latest { return CatalogChanges(cursor: latest, reset: true) }
            let rows = try Row.fetchAll(
                db, sql: "SELECT kind, resourceId, deleted FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                arguments: [cursor, limit + 1])
            if rows.count > limit { return CatalogChanges(cursor: latest, reset: true) }
            var changes = CatalogChanges(cursor: latest, reset: false)
            var changed: [String: [String]] = [:]
            for row in rows {
                let kind: String = row["kind"]
                let id: String = row["resourceId"]
                if row["deleted"] {
                    changes.deleted.append(.init(kind: kind, id: id))
                } else {
                    changed[kind, default: []].append(id)
                }
            }
            changes.volumes = try Volume.fetchAll(db, keys: changed["volume"] ?? [])
            changes.instances = try Instance.fetchAll(db, keys: changed["instance"] ?? [])
            changes.snapshots = try Snapshot.fetchAll(db, keys: changed["snapshot"] ?? [])
            changes.images = try MachineImage.fetchAll(db, keys: changed["image"] ?? [])
            changes.policies = try Policy.fetchAll(db, keys: changed["policy"] ?? [])
            return changes
        }
    }

    private static func cursor(_ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM changes") ?? 0
    }
}
