import Foundation
import GRDB
import Logging

/// The durable, ordered log of state changes (like `incus monitor` or EC2's state-change events): one row per
/// resource created, per state it moved to, per deletion. SQLite's triggers write it, so no write path can
/// forget an event, and it survives restarts with the catalog. The oldest rows go past `retention`.
enum CatalogEventLog {
    static let retention = 100_000

    /// The tables whose rows make events: kind, id expression, and the column that says why (if any).
    static let sources: [(table: String, kind: String, id: String, reason: String?)] = [
        ("volumes", "volume", "id", nil), ("instances", "instance", "id", "stateReason"),
        ("snapshots", "snapshot", "id", "errorMessage"), ("images", "image", "id", "stateReason"),
        ("policyRuns", "policy-run", "policyId", nil),
    ]

    /// One event as one log line: "snapshot snap-… completed" with the ids and states as metadata.
    static func log(_ event: CatalogEvent, to logger: Logger) {
        var metadata: Logger.Metadata = [
            event.kind: "\(event.resourceId)", "event": "\(event.seq)", "action": "\(event.action)",
        ]
        if let from = event.fromState { metadata["from"] = "\(from)" }
        if let to = event.toState { metadata["to"] = "\(to)" }
        if let reason = event.reason { metadata["reason"] = "\(reason)" }
        let what = event.action == "changed" ? (event.toState ?? "changed") : event.action
        logger.info("\(event.kind) \(event.resourceId) \(what)", metadata: metadata)
    }

    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, at DATETIME NOT NULL, kind TEXT NOT NULL,
                    resourceId TEXT NOT NULL, action TEXT NOT NULL, fromState TEXT, toState TEXT, reason TEXT);
                CREATE INDEX events_by_resource ON events (resourceId, seq);
                CREATE TRIGGER events_retention AFTER INSERT ON events
                WHEN new.seq % 1000 = 0 AND new.seq > \(retention) BEGIN
                    DELETE FROM events WHERE seq <= new.seq - \(retention);
                END;
                """)
        let now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        for (table, kind, id, reason) in sources {
            let why = { (row: String) in reason.map { "\(row).\($0)" } ?? "NULL" }
            let insert = "INSERT INTO events (at, kind, resourceId, action, fromState, toState, reason) VALUES"
            try db.execute(
                sql: """
                    CREATE TRIGGER \(table)_events_insert AFTER INSERT ON \(table) BEGIN
                        \(insert) (\(now), '\(kind)', new.\(id), 'created', NULL, new.state, \(why("new")));
                    END;
                    CREATE TRIGGER \(table)_events_state AFTER UPDATE OF state ON \(table)
                    WHEN old.state IS NOT new.state BEGIN
                        \(insert) (\(now), '\(kind)', new.\(id), 'changed', old.state, new.state, \(why("new")));
                    END;
                    CREATE TRIGGER \(table)_events_delete AFTER DELETE ON \(table) BEGIN
                        \(insert) (\(now), '\(kind)', old.\(id), 'deleted', old.state, NULL, NULL);
                    END;
                    """)
        }
        for (table, kind) in [("policies", "policy")] {
            try db.execute(
                sql: """
                    CREATE TRIGGER \(table)_events_insert AFTER INSERT ON \(table) BEGIN
                        INSERT INTO events (at, kind, resourceId, action) VALUES (\(now), '\(kind)', new.id, 'created');
                    END;
                    CREATE TRIGGER \(table)_events_delete AFTER DELETE ON \(table) BEGIN
                        INSERT INTO events (at, kind, resourceId, action) VALUES (\(now), '\(kind)', old.id, 'deleted');
                    END;
                    """)
        }
    }
}

/// One entry of the event log.
public struct CatalogEvent: Codable, Sendable, Equatable, FetchableRecord, TableRecord {
    public static let databaseTableName = "events"

    public var seq: Int64
    public var at: Date
    /// `volume`, `instance`, `snapshot`, `image`, `policy` or `policy-run` (whose resource is the policy).
    public var kind: String
    public var resourceId: String
    /// `created`, `changed` (a new state) or `deleted`.
    public var action: String
    public var fromState: String?
    public var toState: String?
    public var reason: String?
}

extension Catalog {
    /// Events after `seq` (oldest first), at most `limit`; optionally only those of one resource.
    public func events(after seq: Int64 = 0, resourceId: String? = nil, limit: Int = 1000)
        async throws(SnaplabError) -> [CatalogEvent]
    {
        try await read { db in
            var request = CatalogEvent.filter(Column("seq") > seq)
            if let resourceId { request = request.filter(Column("resourceId") == resourceId) }
            return try request.order(Column("seq")).limit(max(1, min(limit, 10_000))).fetchAll(db)
        }
    }

    /// The latest event's sequence number (0 before any): follow from here to see only what happens next.
    public func latestEventSeq() async throws(SnaplabError) -> Int64 {
        try await read { db in try Int64.fetchOne(db, sql: "SELECT MAX(seq) FROM events") ?? 0 }
    }
}
