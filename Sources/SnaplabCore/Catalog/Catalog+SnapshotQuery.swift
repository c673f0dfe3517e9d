import Foundation
import GRDB

/// Which snapshots a listing wants. Filters, order and limit run in SQLite (tags through `json_each`), so a
/// listing of a few snapshots out of thousands reads only those rows.
public struct SnapshotQuery: Sendable, Equatable {
    public var volumeId: String?
    public var state: SnapshotState?
    /// Tag key → value; a nil value only asks that the key be there.
    public var tags: [String: String?]
    /// Created at or after.
    public var since: Date?
    /// At most this many: the newest ones, still listed oldest first.
    public var limit: Int?

    public init(
        volumeId: String? = nil, state: SnapshotState? = nil, tags: [String: String?] = [:], since: Date? = nil,
        limit: Int? = nil
    ) {
        self.volumeId = volumeId
        self.state = state
        self.tags = tags
        self.since = since
        self.limit = limit
    }
}

extension Catalog {
    public func snapshots(matching query: SnapshotQuery) async throws(SnaplabError) -> [Snapshot] {
        try await read { db in
            var request = Snapshot.all()
            if let volumeId = query.volumeId { request = request.filter(Snapshot.Columns.volumeId == volumeId) }
            if let state = query.state { request = request.filter(Snapshot.Columns.state == state.rawValue) }
            if let since = query.since { request = request.filter(Snapshot.Columns.createdAt >= since) }
            for (key, value) in query.tags.sorted(by: { $0.key < $1.key }) {
                if let value {
                    request = request.filter(
                        sql: "EXISTS (SELECT 1 FROM json_each(snapshots.tags) WHERE key = ? AND value = ?)",
                        arguments: [key, value])
                } else {
                    request = request.filter(
                        sql: "EXISTS (SELECT 1 FROM json_each(snapshots.tags) WHERE key = ?)", arguments: [key])
                }
            }
            guard let limit = query.limit else {
                return try request.order(Snapshot.Columns.createdAt, Snapshot.Columns.id).fetchAll(db)
            }
            let newest = try request.order(Snapshot.Columns.createdAt.desc, Snapshot.Columns.id.desc)
                .limit(max(0, limit)).fetchAll(db)
            return newest.reversed()
        }
    }
}
