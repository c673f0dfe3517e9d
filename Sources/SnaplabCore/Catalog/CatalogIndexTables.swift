import GRDB

/// Tables SQLite keeps up to date from the resource tables by triggers, so no write path can forget them:
/// `resourceTags` (one row per tag, indexed by key and value, for tag filters) and `changes` (the change
/// cursor: one row per resource with the sequence number of its latest insert, update or delete).
enum CatalogIndexTables {
    /// The resource tables, with the kind their rows are named by in `resourceTags` and `changes`.
    static let tagged: [(table: String, kind: String)] = [
        ("volumes", "volume"), ("snapshots", "snapshot"), ("images", "image"), ("instances", "instance"),
    ]
    static let tracked = tagged + [("policies", "policy")]

    /// Deletions are remembered for this many changes; a client whose cursor is older must reload.
    static let deletionWindow = 50_000

    static func create(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE resourceTags (
                    kind TEXT NOT NULL, resourceId TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
                    PRIMARY KEY (kind, resourceId, key)) WITHOUT ROWID;
                CREATE INDEX resourceTags_by_value ON resourceTags (kind, key, value, resourceId);
                CREATE TABLE changes (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, resourceId TEXT NOT NULL,
                    deleted BOOLEAN NOT NULL, UNIQUE (kind, resourceId));
                CREATE INDEX changes_deletions ON changes (deleted, seq);
                CREATE TABLE changeFloor (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
                INSERT INTO changeFloor (id, seq) VALUES (1, 0);
                CREATE TRIGGER changes_forget_old_deletions AFTER INSERT ON changes
                WHEN new.seq % 1000 = 0 AND new.seq > \(deletionWindow) BEGIN
                    UPDATE changeFloor SET seq = new.seq - \(deletionWindow);
                    DELETE FROM changes WHERE deleted = 1 AND seq <= new.seq - \(deletionWindow);
                END;
                """)
        for (table, kind) in tagged {
            let copyTags =
                "INSERT INTO resourceTags (kind, resourceId, key, value) SELECT '\(kind)', new.id, key, value FROM json_each(new.tags);"
            try db.execute(
                sql: """
                    CREATE TRIGGER \(table)_tags_insert AFTER INSERT ON \(table) BEGIN \(copyTags) END;
                    CREATE TRIGGER \(table)_tags_update AFTER UPDATE OF tags ON \(table)
                    WHEN old.tags IS NOT new.tags BEGIN
                        DELETE FROM resourceTags WHERE kind = '\(kind)' AND resourceId = old.id;
                        \(copyTags)
                    END;
                    CREATE TRIGGER \(table)_tags_delete AFTER DELETE ON \(table) BEGIN
                        DELETE FROM resourceTags WHERE kind = '\(kind)' AND resourceId = old.id;
                    END;
                    INSERT INTO resourceTags (kind, resourceId, key, value)
                        SELECT '\(kind)', \(table).id, tag.key, tag.value FROM \(table), json_each(\(table).tags) AS tag;
                    """)
        }
        for (table, kind) in tracked {
            let record = { (row: String, deleted: Int) in
                "INSERT OR REPLACE INTO changes (kind, resourceId, deleted) VALUES ('\(kind)', \(row).id, \(deleted));"
            }
            try db.execute(
                sql: """
                    CREATE TRIGGER \(table)_changes_insert AFTER INSERT ON \(table) BEGIN \(record("new", 0)) END;
                    CREATE TRIGGER \(table)_changes_update AFTER UPDATE ON \(table) BEGIN \(record("new", 0)) END;
                    CREATE TRIGGER \(table)_changes_delete AFTER DELETE ON \(table) BEGIN \(record("old", 1)) END;
                    """)
        }
    }
}
