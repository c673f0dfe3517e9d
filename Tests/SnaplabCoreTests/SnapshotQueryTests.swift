import Foundation
import GRDB
import Testing

@testable import SnaplabCore

/// Snapshot listings run in SQLite: filters by volume, state, tags (the tag table, with EC2's wildcards), age,
/// the newest N, and keyset pages that stay whole while snapshots are added.
@Suite struct SnapshotQueryTests {
    static let start = Date(timeIntervalSince1970: 1_800_000_000)

    static func catalog(snapshots count: Int) async throws -> Catalog {
        let catalog = try Catalog.inMemory()
        try await catalog.save(Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p"))
        for id in ["vol-a", "vol-b"] {
            try await catalog.insert(
                Volume(
                    id: id, host: "local", role: .data, size: 1 << 20, state: .available, poolVolume: "\(id).qcow2",
                    path: "/p/\(id).qcow2"))
        }
        for number in 0..<count { try await catalog.insert(snapshot(number)) }
        return catalog
    }

    static func snapshot(_ number: Int) -> Snapshot {
        Snapshot(
            id: String(format: "snap-%04d", number), volumeId: number % 2 == 0 ? "vol-a" : "vol-b",
            volumeRole: .data, volumeSize: 1 << 20, state: number % 5 == 4 ? .error : .completed,
            createdAt: start.addingTimeInterval(Double(number) * 3600),
            tags: number % 3 == 0 ? ["tier": "gold", "team": "a'b \"c\""] : ["tier": "silver[1]"])
    }

    static func name(_ number: Int) -> String { String(format: "snap-%04d", number) }

    @Test func filtersCombineAndTheLimitKeepsTheNewest() async throws {
        let catalog = try await Self.catalog(snapshots: 20)
        func ids(_ query: SnapshotQuery) async throws -> [String] {
            try await catalog.snapshots(matching: query).map(\.id)
        }
        #expect(try await ids(SnapshotQuery()).count == 20)
        #expect(try await ids(SnapshotQuery(volumeIds: ["vol-b"])) == stride(from: 1, to: 20, by: 2).map(Self.name))
        #expect(try await ids(SnapshotQuery(states: [.error])) == [4, 9, 14, 19].map(Self.name))
        #expect(
            try await ids(SnapshotQuery(tags: [TagFilter(key: "tier", values: ["gold"])]))
                == [0, 3, 6, 9, 12, 15, 18].map(Self.name))
        #expect(
            try await ids(SnapshotQuery(tags: [TagFilter(key: "team", values: ["a'b \"c\""])])).count == 7,
            "values are parameters, not SQL")
        #expect(try await ids(SnapshotQuery(tags: [TagFilter(key: "team")])).count == 7)
        #expect(try await ids(SnapshotQuery(tags: [TagFilter(key: "nope")])).isEmpty)
        #expect(
            try await ids(SnapshotQuery(since: Self.start.addingTimeInterval(17 * 3600)))
                == [17, 18, 19].map(Self.name))
        #expect(try await ids(SnapshotQuery(limit: 3)) == [17, 18, 19].map(Self.name), "the newest, oldest first")
        #expect(
            try await ids(
                SnapshotQuery(
                    volumeIds: ["vol-a"], states: [.completed], tags: [TagFilter(key: "tier", values: ["gold"])],
                    limit: 2)) == [12, 18].map(Self.name))
    }

    @Test func tagFiltersUseEC2WildcardsAndFollowTagChanges() async throws {
        let catalog = try await Self.catalog(snapshots: 20)
        func count(_ filters: TagFilter...) async throws -> Int {
            try await catalog.snapshots(matching: SnapshotQuery(tags: filters)).count
        }
        #expect(try await count(TagFilter(key: "tier", values: ["g*"])) == 7)
        #expect(try await count(TagFilter(key: "tier", values: ["silver[1]"])) == 13, "a bracket is a bracket")
        #expect(try await count(TagFilter(key: "tier", values: ["silver[?]"])) == 13)
        #expect(try await count(TagFilter(key: "tier", values: ["gold", "silver*"])) == 20)
        #expect(try await count(TagFilter(key: nil, keyPatterns: ["te?m"])) == 7, "tag-key")
        #expect(try await count(TagFilter(key: nil, values: ["gold"])) == 7, "tag-value")
        #expect(try await count(TagFilter(key: "tier", values: ["gold"]), TagFilter(key: "team")) == 7)
        #expect(try await count(TagFilter(key: "tier", values: ["gold"]), TagFilter(key: "nope")) == 0)

        try await catalog.updateTags(Snapshot.self, Self.name(1)) { $0["tier"] = "gold" }
        #expect(try await count(TagFilter(key: "tier", values: ["gold"])) == 8, "a tag change reaches the tag table")
        try await catalog.deleteSnapshot(Self.name(0))
        #expect(try await count(TagFilter(key: "tier", values: ["gold"])) == 7, "a deleted snapshot's tags go too")
        let rows = try await catalog.read { db in
            try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM resourceTags WHERE resourceId = ?", arguments: ["snap-0000"])
        }
        #expect(rows == 0)
    }

    @Test func exactValuesAndBackslashEscapesAreNotWildcards() async throws {
        let catalog = try await Self.catalog(snapshots: 2)
        try await catalog.updateTags(Snapshot.self, Self.name(0)) { $0["pattern"] = "a*b" }
        try await catalog.updateTags(Snapshot.self, Self.name(1)) { $0["pattern"] = "axxb" }
        func ids(_ filter: TagFilter) async throws -> [String] {
            try await catalog.snapshots(matching: SnapshotQuery(tags: [filter])).map(\.id)
        }
        #expect(try await ids(TagFilter(key: "pattern", values: ["a*b"])) == [Self.name(0), Self.name(1)])
        #expect(try await ids(TagFilter.exactly("pattern", "a*b")) == [Self.name(0)])
        #expect(try await ids(TagFilter(key: "pattern", values: [#"a\*b"#])) == [Self.name(0)], "EC2's escape")
        #expect(try await ids(TagFilter(key: "pattern", values: [#"a\**"#])) == [Self.name(0)])
        #expect(try await ids(TagFilter.exactly("tier", "silver[1]")) == [Self.name(1)])
    }

    @Test(arguments: [false, true])
    func pagesHaveNoDuplicatesOrGapsWhileSnapshotsAreAdded(newestFirst: Bool) async throws {
        let catalog = try await Self.catalog(snapshots: 250)
        let query = SnapshotQuery(states: [.completed], tags: [TagFilter(key: "tier", values: ["silver*"])])
        let expected = try await catalog.snapshots(matching: query).map(\.id)
        #expect(expected.count == 133)
        var seen: [String] = []
        var token: PageToken?
        var added = 250
        repeat {
            let page = try await catalog.snapshots(matching: query, pageSize: 7, after: token, newestFirst: newestFirst)
            #expect(page.items.count <= 7)
            seen += page.items.map(\.id)
            token = try page.next.map { try PageToken(text: $0.text) }
            // Newer snapshots land while the client pages (one that matches, one that does not).
            try await catalog.insert(Self.snapshot(added))
            try await catalog.insert(Self.snapshot(added + 1))
            added += 2
        } while token != nil
        #expect(Set(seen).count == seen.count, "no snapshot is listed twice")
        if newestFirst {
            #expect(seen == expected.reversed(), "newest first, every one that existed when the listing began")
        } else {
            #expect(Array(seen.prefix(expected.count)) == expected, "every one that existed, in order")
            #expect(seen.count > expected.count, "and the newer ones after them")
        }
    }

    @Test func aTokenThatIsNotOneTheLabGaveIsRefused() async throws {
        for text in [
            "", "not base64!", Data("x".utf8).base64EncodedString(), Data("2026|'; DROP".utf8).base64EncodedString(),
        ] {
            #expect(throws: SnaplabError.self) { try PageToken(text: text) }
        }
        let token = PageToken(createdAt: "2026-12-03 09:30:30.123", id: "snap-0001")
        #expect(try PageToken(text: token.text) == token)
    }
}
