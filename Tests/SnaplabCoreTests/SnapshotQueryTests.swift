import Foundation
import Testing

@testable import SnaplabCore

/// `snapshot list` filters run in SQLite: by volume, state, tags (with and without a value), age and a limit of
/// the newest, combined.
@Suite struct SnapshotQueryTests {
    @Test func filtersCombineAndTheLimitKeepsTheNewest() async throws {
        let catalog = try Catalog.inMemory()
        try await catalog.save(Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p"))
        let volumes = ["vol-a", "vol-b"]
        for id in volumes {
            try await catalog.insert(
                Volume(
                    id: id, host: "local", role: .data, size: 1 << 20, state: .available, poolVolume: "\(id).qcow2",
                    path: "/p/\(id).qcow2"))
        }
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for number in 0..<20 {
            try await catalog.insert(
                Snapshot(
                    id: String(format: "snap-%02d", number), volumeId: volumes[number % 2], volumeRole: .data,
                    volumeSize: 1 << 20, state: number % 5 == 4 ? .error : .completed,
                    createdAt: start.addingTimeInterval(Double(number) * 3600),
                    tags: number % 3 == 0 ? ["tier": "gold", "team": "a'b \"c\""] : ["tier": "silver"]))
        }
        func ids(_ query: SnapshotQuery) async throws -> [String] {
            try await catalog.snapshots(matching: query).map(\.id)
        }
        #expect(try await ids(SnapshotQuery()).count == 20)
        #expect(
            try await ids(SnapshotQuery(volumeId: "vol-b"))
                == stride(from: 1, to: 20, by: 2).map { String(format: "snap-%02d", $0) })
        #expect(try await ids(SnapshotQuery(state: .error)) == ["snap-04", "snap-09", "snap-14", "snap-19"])
        #expect(
            try await ids(SnapshotQuery(tags: ["tier": "gold"])) == [
                "snap-00", "snap-03", "snap-06", "snap-09", "snap-12", "snap-15", "snap-18",
            ])
        #expect(try await ids(SnapshotQuery(tags: ["team": "a'b \"c\""])).count == 7, "values are parameters, not SQL")
        #expect(try await ids(SnapshotQuery(tags: ["team": nil])).count == 7)
        #expect(try await ids(SnapshotQuery(tags: ["nope": nil])).isEmpty)
        #expect(
            try await ids(SnapshotQuery(since: start.addingTimeInterval(17 * 3600))) == [
                "snap-17", "snap-18", "snap-19",
            ])
        #expect(
            try await ids(SnapshotQuery(limit: 3)) == ["snap-17", "snap-18", "snap-19"], "the newest, oldest first")
        #expect(
            try await ids(SnapshotQuery(volumeId: "vol-a", state: .completed, tags: ["tier": "gold"], limit: 2))
                == ["snap-12", "snap-18"])
    }
}
