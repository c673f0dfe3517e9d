import Foundation
import GRDB
import Testing

@testable import SnaplabCore

/// The event log is written by the catalog's triggers: every creation, state change and deletion, in order,
/// durable across reopening, bounded by its retention.
@Suite struct EventLogTests {
    static let host = Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p")

    static func volume() -> Volume {
        let id = ResourceID.generate(.volume)
        return Volume(
            id: id, host: "local", role: .data, size: 1 << 20, state: .creating, poolVolume: "\(id).qcow2",
            path: "/p/\(id).qcow2")
    }

    @Test func lifecycleEventsAreLoggedInOrderAndSurviveReopening() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("snaplab-events-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("catalog.sqlite").path
        let volume = Self.volume()
        do {
            let catalog = try Catalog(path: path)
            try await catalog.save(Self.host)
            try await catalog.insert(volume)
            _ = try await catalog.transitionVolume(volume.id, from: [.creating], to: .available)
            // A write that leaves the state alone is no event.
            var tagged = try await catalog.volume(volume.id)
            tagged.tags = ["team": "a"]
            try await catalog.update(tagged)
            try await catalog.deleteVolume(volume.id)
        }
        let reopened = try Catalog(path: path)
        let events = try await reopened.events(resourceId: volume.id)
        #expect(events.map(\.action) == ["created", "changed", "deleted"])
        #expect(events.map(\.toState) == ["creating", "available", nil])
        #expect(events[1].fromState == "creating")
        #expect(events.map(\.seq) == events.map(\.seq).sorted())
        #expect(events.allSatisfy { abs($0.at.timeIntervalSinceNow) < 60 && $0.kind == "volume" })
        let latest = try await reopened.latestEventSeq()
        #expect(try await reopened.events(after: latest).isEmpty)
    }

    @Test func theOldestEventsGoPastTheRetention() async throws {
        let catalog = try Catalog.inMemory()
        try await catalog.save(Self.host)
        let volume = Self.volume()
        try await catalog.insert(volume)
        // Jump the sequence to just below the retention's next check, then let one more event trigger it.
        let jump = Int64(CatalogEventLog.retention + 1000 - 1)
        try await catalog.write { db in
            try db.execute(
                sql:
                    "INSERT INTO events (seq, at, kind, resourceId, action) VALUES (?, '2026-01-01 00:00:00', 'volume', 'x', 'created')",
                arguments: [jump])
        }
        _ = try await catalog.transitionVolume(volume.id, from: [.creating], to: .available)
        let left = try await catalog.events(limit: 10)
        #expect(left.first?.seq == jump, "the volume's first event (seq 1) is gone")
        #expect(left.last?.toState == "available")
    }
}
