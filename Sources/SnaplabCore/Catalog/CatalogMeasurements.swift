import Foundation
import GRDB

/// Durable measurements of finished operations, for `/metrics`: one row per snapshot that completed or failed,
/// restore that ended, first launch that reached running (or failed), policy run that ended and drill. SQLite's
/// triggers write them, as they write the event log, so the work of every process (CLI, daemon, server) is
/// counted and nothing is lost by a restart. The oldest rows go past `retention`; a server that starts again
/// counts from the oldest kept row (Prometheus sees a counter reset, as for any restarted exporter).
enum CatalogMeasurements {
    static let retention = 100_000

    static func create(_ db: Database) throws {
        try db.alter(table: "snapshots") { table in
            // Uncompressed bytes of the chunks this snapshot added to the store (nil for older rows).
            table.add(column: "bytesNew", .integer)
        }
        let seconds = { (from: String, to: String) in "(julianday(\(to)) - julianday(\(from))) * 86400.0" }
        let now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        let insert =
            "INSERT INTO measurements (at, operation, outcome, kind, subject, seconds, bytesRead, bytesChanged, bytesNew, bytesStored) VALUES"
        try db.execute(
            sql: """
                CREATE TABLE measurements (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, at DATETIME NOT NULL, operation TEXT NOT NULL,
                    outcome TEXT NOT NULL, kind TEXT NOT NULL, subject TEXT NOT NULL, seconds REAL,
                    bytesRead INTEGER, bytesChanged INTEGER, bytesNew INTEGER, bytesStored INTEGER);
                CREATE TRIGGER measurements_retention AFTER INSERT ON measurements
                WHEN new.seq % 1000 = 0 AND new.seq > \(retention) BEGIN
                    DELETE FROM measurements WHERE seq <= new.seq - \(retention);
                END;

                CREATE TRIGGER snapshots_measure AFTER UPDATE OF state ON snapshots
                WHEN old.state IS NOT new.state AND new.state IN ('completed', 'error') BEGIN
                    \(insert) (\(now), 'snapshot', new.state,
                        CASE WHEN new.incremental THEN 'incremental' ELSE 'full' END, new.volumeId,
                        \(seconds("new.createdAt", "coalesce(new.completedAt, \(now))")),
                        new.bytesRead, new.bytesChanged, new.bytesNew, new.bytesStored);
                END;

                CREATE TRIGGER volumes_measure_restore AFTER UPDATE OF state ON volumes
                WHEN old.state = 'creating' AND new.state IS NOT 'creating' AND new.origin LIKE 'snapshot %' BEGIN
                    \(insert) (\(now), 'restore', new.state, CASE WHEN new.lazy IS NULL THEN 'eager' ELSE 'lazy' END,
                        new.id, \(seconds("new.createdAt", now)), new.size, NULL, NULL, NULL);
                END;

                CREATE TRIGGER instances_measure_launch AFTER UPDATE OF state ON instances
                WHEN old.state = 'pending' AND old.launchedAt IS NULL AND new.state IS NOT 'pending' BEGIN
                    \(insert) (\(now), 'launch', CASE WHEN new.state = 'running' THEN 'running' ELSE 'failed' END,
                        CASE WHEN new.imageId IS NULL THEN 'volume' ELSE 'image' END, new.id,
                        \(seconds("new.createdAt", "coalesce(new.launchedAt, \(now))")), NULL, NULL, NULL, NULL);
                END;

                CREATE TRIGGER policyRuns_measure AFTER UPDATE OF endedAt ON policyRuns
                WHEN old.endedAt IS NULL AND new.endedAt IS NOT NULL BEGIN
                    \(insert) (\(now), 'policy-run', new.state, '', new.policyId,
                        \(seconds("new.startedAt", "new.endedAt")), NULL, NULL, NULL, NULL);
                END;

                CREATE TRIGGER drills_measure AFTER INSERT ON drills BEGIN
                    \(insert) (\(now), 'drill', CASE WHEN new.passed THEN 'passed' ELSE 'failed' END, '',
                        new.policyId, \(seconds("new.startedAt", "new.endedAt")), NULL, NULL, NULL, NULL);
                END;
                """)
    }
}

/// One finished operation, as `/metrics` counts it.
public struct CatalogMeasurement: Sendable, Equatable, FetchableRecord, Decodable {
    public var seq: Int64
    public var at: Date
    /// `snapshot`, `restore`, `launch`, `policy-run` or `drill`.
    public var operation: String
    /// `completed`/`error`, `available`/`error`, `running`/`failed`, the run's end state, `passed`/`failed`.
    public var outcome: String
    /// `full`/`incremental`, `eager`/`lazy`, `image`/`volume`; empty for the others.
    public var kind: String
    /// The volume, instance or policy it was about.
    public var subject: String
    public var seconds: Double?
    public var bytesRead: Int64?
    public var bytesChanged: Int64?
    public var bytesNew: Int64?
    public var bytesStored: Int64?
}

extension Catalog {
    /// Measurements after `seq`, oldest first.
    public func measurements(after seq: Int64 = 0, limit: Int = 10_000) async throws(SnaplabError)
        -> [CatalogMeasurement]
    {
        try await read { db in
            try CatalogMeasurement.fetchAll(
                db, sql: "SELECT * FROM measurements WHERE seq > ? ORDER BY seq LIMIT ?", arguments: [seq, limit])
        }
    }
}

/// What the catalog holds now, for `/metrics`' gauges.
public struct SnapshotTotals: Sendable {
    /// Snapshots by state.
    public var byState: [String: Int]
    /// What the completed snapshots in the catalog added to the store when they were written.
    public var storedBytes: Int64
    /// When the newest completed snapshot of each volume was taken.
    public var latestCompleted: [String: Date]
    /// Changed bytes handed to the store ÷ bytes new to it, over the completed snapshots that recorded both.
    public var dedupRatio: Double?
}

extension Catalog {
    public func snapshotTotals() async throws(SnaplabError) -> SnapshotTotals {
        try await read { db in
            var byState: [String: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM snapshots GROUP BY state") {
                byState[row["state"]] = row["n"]
            }
            let stored =
                try Int64.fetchOne(
                    db, sql: "SELECT coalesce(sum(bytesStored), 0) FROM snapshots WHERE state = 'completed'") ?? 0
            var latest: [String: Date] = [:]
            for row in try Row.fetchAll(
                db,
                sql: "SELECT volumeId, max(createdAt) AS at FROM snapshots WHERE state = 'completed' GROUP BY volumeId")
            {
                latest[row["volumeId"]] = row["at"]
            }
            let sums = try Row.fetchOne(
                db,
                sql: """
                    SELECT sum(bytesChanged) AS changed, sum(bytesNew) AS new FROM snapshots
                    WHERE state = 'completed' AND bytesNew IS NOT NULL
                    """)
            let changed: Int64 = sums?["changed"] ?? 0
            let new: Int64 = sums?["new"] ?? 0
            return SnapshotTotals(
                byState: byState, storedBytes: stored, latestCompleted: latest,
                dedupRatio: new > 0 ? Double(changed) / Double(new) : nil)
        }
    }
}
