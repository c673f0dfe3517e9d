import Foundation
import GRDB
import Testing

@testable import SnaplabCore

/// The change cursor: every insert, update and delete of a resource moves it, whatever code path wrote; a
/// client asking after its cursor gets the resources as they are now and the ids of those deleted.
@Suite struct CatalogChangesTests {
    @Test func insertsUpdatesAndDeletesAreReportedOncePerResource() async throws {
        let catalog = try await SnapshotQueryTests.catalog(snapshots: 5)
        let start = try await catalog.changeCursor()
        #expect(start > 0)
        #expect(try await catalog.changes(since: start).isEmpty)

        try await catalog.insert(SnapshotQueryTests.snapshot(5))
        try await catalog.updateTags(Snapshot.self, SnapshotQueryTests.name(1)) { $0["new"] = "tag" }
        try await catalog.updateTags(Snapshot.self, SnapshotQueryTests.name(1)) { $0["newer"] = "tag" }
        try await catalog.deleteSnapshot(SnapshotQueryTests.name(2))
        // A write that goes around the Swift model is seen too (the triggers are in SQLite).
        try await catalog.write { db in
            try db.execute(sql: "UPDATE volumes SET size = size * 2 WHERE id = 'vol-a'")
        }
        let changes = try await catalog.changes(since: start)
        #expect(!changes.reset)
        #expect(changes.cursor == (try await catalog.changeCursor()))
        #expect(Set(changes.snapshots.map(\.id)) == [SnapshotQueryTests.name(5), SnapshotQueryTests.name(1)])
        #expect(changes.snapshots.first { $0.id == SnapshotQueryTests.name(1) }?.tags["newer"] == "tag")
        #expect(changes.deleted == [.init(kind: "snapshot", id: SnapshotQueryTests.name(2))])
        #expect(changes.volumes.map(\.id) == ["vol-a"])
        #expect(changes.volumes.first?.size == 2 << 20)
        #expect(try await catalog.changes(since: changes.cursor).isEmpty)
    }

    @Test func aCursorTooOldOrTooFarBehindAsksForAReload() async throws {
        let catalog = try await SnapshotQueryTests.catalog(snapshots: 3)
        let start = try await catalog.changeCursor()
        for number in 3..<13 { try await catalog.insert(SnapshotQueryTests.snapshot(number)) }
        #expect(try await catalog.changes(since: start, limit: 5).reset, "more changes than asked for")
        #expect(try await catalog.changes(since: start, limit: 10).snapshots.count == 10)
        #expect(try await catalog.changes(since: start + 1000).reset, "a cursor from the future")
        try await catalog.write { db in try db.execute(sql: "UPDATE changeFloor SET seq = ?", arguments: [start + 1]) }
        #expect(try await catalog.changes(since: start).reset, "deletions before the cursor were forgotten")
    }

    @Test func theMigrationIndexesTagsOfRowsThatExistedBeforeIt() async throws {
        let queue = try DatabaseQueue()
        try Catalog.migrator.migrate(queue, upTo: "v7-snapshot-listing-index")
        try await queue.write { db in
            try db.execute(
                sql: """
                    INSERT INTO snapshots (id, volumeId, volumeRole, volumeSize, state, progress, incremental, createdAt,
                        bytesRead, bytesChanged, bytesStored, allocatedBytes, tags, pinned)
                    VALUES ('snap-old', 'vol-x', 'data', 1, 'completed', 100, 0, '2026-01-01 00:00:00.000', 0, 0, 0, 0,
                        '{"keep":"yes"}', 0)
                    """)
        }
        let catalog = try Catalog(writer: queue)
        let found = try await catalog.snapshots(
            matching: SnapshotQuery(tags: [TagFilter(key: "keep", values: ["yes"])]))
        #expect(found.map(\.id) == ["snap-old"])
    }
}
