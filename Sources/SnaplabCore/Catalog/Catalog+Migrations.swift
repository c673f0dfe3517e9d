import GRDB

extension Catalog {
    /// Schema history. A shipped migration is never edited: add a new one.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-hosts-volumes-instances") { db in
            try db.create(table: "hosts") { table in
                table.primaryKey("name", .text)
                table.column("uri", .text).notNull()
                table.column("poolName", .text).notNull()
                table.column("poolPath", .text).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "instances") { table in
                table.primaryKey("id", .text)
                table.column("host", .text).notNull().references("hosts", onDelete: .restrict)
                table.column("state", .text).notNull().indexed()
                table.column("stateReason", .text)
                table.column("memoryMiB", .integer).notNull()
                table.column("vcpus", .integer).notNull()
                table.column("boot", .jsonText).notNull()
                table.column("fsck", .text).notNull()
                table.column("consolePath", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("launchedAt", .datetime)
                table.column("tags", .jsonText).notNull()
            }
            try db.create(table: "volumes") { table in
                table.primaryKey("id", .text)
                table.column("host", .text).notNull().references("hosts", onDelete: .restrict)
                table.column("role", .text).notNull()
                table.column("size", .integer).notNull()
                table.column("state", .text).notNull()
                table.column("poolVolume", .text).notNull()
                table.column("path", .text).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("instanceId", .text).indexed().references("instances", onDelete: .setNull)
                table.column("device", .text)
                table.column("deleteOnTermination", .boolean).notNull()
                table.column("boot", .jsonText)
                table.column("origin", .text)
                table.column("tags", .jsonText).notNull()
            }
            // One device name per instance.
            try db.create(
                index: "volumes_instance_device", on: "volumes", columns: ["instanceId", "device"],
                unique: true)
        }
        migrator.registerMigration("v2-snapshots") { db in
            try db.alter(table: "volumes") { table in
                table.add(column: "lastSnapshotId", .text)
                table.add(column: "cbtBase", .text)
            }
            try db.create(table: "snapshots") { table in
                table.primaryKey("id", .text)
                table.column("volumeId", .text).notNull().indexed()
                table.column("volumeRole", .text).notNull()
                table.column("volumeSize", .integer).notNull()
                table.column("state", .text).notNull().indexed()
                table.column("progress", .double).notNull()
                table.column("parentId", .text)
                table.column("incremental", .boolean).notNull()
                table.column("setId", .text).indexed()
                table.column("consistency", .text)
                table.column("consistencyNote", .text)
                table.column("instanceId", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("completedAt", .datetime)
                table.column("bytesRead", .integer).notNull()
                table.column("bytesChanged", .integer).notNull()
                table.column("bytesStored", .integer).notNull()
                table.column("allocatedBytes", .integer).notNull()
                table.column("errorMessage", .text)
                table.column("description", .text)
                table.column("tags", .jsonText).notNull()
                table.column("boot", .jsonText)
                table.column("checkpoint", .text)
                table.column("workerPid", .integer)
                table.column("workerStartTime", .integer)
            }
            try db.create(table: "settings") { table in
                table.primaryKey("key", .text)
                table.column("value", .text).notNull()
            }
        }
        migrator.registerMigration("v3-images") { db in
            try db.create(table: "images") { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull().indexed()
                table.column("description", .text)
                table.column("state", .text).notNull()
                table.column("bootSnapshotId", .text).notNull()
                table.column("kernelDigest", .text).notNull()
                table.column("initrdDigest", .text).notNull()
                table.column("cmdline", .text).notNull()
                table.column("memoryMiB", .integer).notNull()
                table.column("vcpus", .integer).notNull()
                table.column("blockDeviceMappings", .jsonText).notNull()
                table.column("sourceInstanceId", .text)
                table.column("createdAt", .datetime).notNull()
                table.column("tags", .jsonText).notNull()
            }
            try db.create(table: "bases") { table in
                table.column("snapshotId", .text).notNull()
                table.column("host", .text).notNull()
                table.column("state", .text).notNull()
                table.column("poolVolume", .text).notNull()
                table.column("path", .text).notNull()
                table.column("size", .integer).notNull()
                table.column("createdAt", .datetime).notNull()
                table.column("workerPid", .integer)
                table.column("workerStartTime", .integer)
                table.primaryKey(["snapshotId", "host"])
            }
            try db.alter(table: "volumes") { table in
                table.add(column: "baseSnapshotId", .text).indexed()
            }
            try db.alter(table: "instances") { table in
                table.add(column: "imageId", .text)
            }
        }
        migrator.registerMigration("v4-policies") { db in
            try db.alter(table: "snapshots") { table in
                table.add(column: "pinned", .boolean).notNull().defaults(to: false)
            }
            try db.create(table: "policies") { table in
                table.primaryKey("id", .text)
                table.column("name", .text).notNull()
                table.column("targetTags", .jsonText).notNull()
                table.column("targetRoles", .jsonText).notNull()
                table.column("targetInstances", .boolean).notNull()
                table.column("schedule", .jsonText).notNull()
                table.column("anchor", .datetime).notNull()
                table.column("freeze", .boolean).notNull()
                table.column("retention", .jsonText).notNull()
                table.column("drill", .jsonText)
                table.column("enabled", .boolean).notNull()
                table.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "policyRuns") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("policyId", .text).notNull().references("policies", onDelete: .cascade)
                table.column("slot", .datetime).notNull()
                table.column("state", .text).notNull()
                table.column("attempt", .integer).notNull()
                table.column("startedAt", .datetime).notNull()
                table.column("endedAt", .datetime)
                table.column("snapshotsTaken", .jsonText).notNull()
                table.column("snapshotsPruned", .jsonText).notNull()
                table.column("errors", .jsonText).notNull()
                table.column("warnings", .jsonText).notNull()
                table.column("ownerPid", .integer)
                table.column("ownerStartTime", .integer)
                // The lock that keeps two daemons from running one slot twice.
                table.uniqueKey(["policyId", "slot"])
            }
            try db.create(table: "drills") { table in
                table.autoIncrementedPrimaryKey("id")
                table.column("policyId", .text).notNull().indexed()
                table.column("startedAt", .datetime).notNull()
                table.column("endedAt", .datetime).notNull()
                table.column("passed", .boolean).notNull()
                table.column("instanceId", .text)
                table.column("targets", .jsonText).notNull()
                table.column("error", .text)
            }
        }
        migrator.registerMigration("v5-image-state-reason") { db in
            try db.alter(table: "images") { table in
                table.add(column: "stateReason", .text)
            }
        }
        migrator.registerMigration("v6-volume-worker") { db in
            // The process filling a `creating` volume (a restore), to tell a slow one from a dead one.
            try db.alter(table: "volumes") { table in
                table.add(column: "workerPid", .integer)
                table.add(column: "workerStartTime", .integer)
            }
        }
        migrator.registerMigration("v7-snapshot-listing-index") { db in
            // Listings filter by volume and state and order by creation time in SQL.
            try db.create(
                index: "snapshots_by_volume", on: "snapshots", columns: ["volumeId", "createdAt", "id"],
                ifNotExists: true)
            try db.create(
                index: "snapshots_by_time", on: "snapshots", columns: ["createdAt", "id"], ifNotExists: true)
        }
        migrator.registerMigration("v8-tag-table-and-change-cursor") { db in
            try CatalogIndexTables.create(db)
        }
        migrator.registerMigration("v9-lazy-volumes") { db in
            try db.alter(table: "volumes") { table in
                table.add(column: "lazy", .jsonText)
            }
            try db.alter(table: "bases") { table in
                table.add(column: "progress", .double).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("v10-firmware-and-ssh-port") { db in
            try db.alter(table: "images") { table in
                table.add(column: "firmware", .text)
            }
            try db.alter(table: "instances") { table in
                table.add(column: "sshPort", .integer)
            }
        }
        migrator.registerMigration("v11-event-log") { db in
            try CatalogEventLog.create(db)
        }
        migrator.registerMigration("v12-measurements") { db in
            try CatalogMeasurements.create(db)
        }
        migrator.registerMigration("v13-snapshot-locks-and-recycle-bin") { db in
            try RecycleBinTables.create(db)
        }
        return migrator
    }
}

extension Host: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "hosts"
}

extension Volume: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "volumes"
    public enum Columns {
        public static let id = Column("id")
        public static let instanceId = Column("instanceId")
        public static let state = Column("state")
        public static let role = Column("role")
        public static let createdAt = Column("createdAt")
    }
}

extension Snapshot: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "snapshots"
    public enum Columns {
        public static let id = Column("id")
        public static let volumeId = Column("volumeId")
        public static let state = Column("state")
        public static let setId = Column("setId")
        public static let createdAt = Column("createdAt")
    }
}

extension MachineImage: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "images"
    public enum Columns {
        public static let id = Column("id")
        public static let name = Column("name")
        public static let state = Column("state")
        public static let createdAt = Column("createdAt")
    }
}

extension BaseVolume: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "bases"
}

extension Policy: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "policies"
}

extension PolicyRun: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "policyRuns"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension DrillResult: FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "drills"

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension Instance: FetchableRecord, PersistableRecord {
    public static let databaseTableName = "instances"
    public enum Columns {
        public static let id = Column("id")
        public static let state = Column("state")
        public static let createdAt = Column("createdAt")
    }
}
