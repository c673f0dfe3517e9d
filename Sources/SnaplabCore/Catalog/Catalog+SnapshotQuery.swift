import Foundation
import GRDB

/// Which snapshots a listing wants. Filters, order and paging run in SQLite (tags through the `resourceTags`
/// table), so a listing of a few snapshots out of many thousands reads only those rows.
public struct SnapshotQuery: Sendable, Equatable {
    /// Id patterns (`*` and `?` wildcards, as in EC2 filters); one must match.
    public var ids: [String]
    /// Volume id patterns; one must match.
    public var volumeIds: [String]
    public var states: [SnapshotState]
    /// Every filter must match (each one matches when the snapshot has one of its values).
    public var tags: [TagFilter]
    /// Description patterns (`*` and `?` wildcards); one must match.
    public var descriptions: [String]
    /// Created at or after.
    public var since: Date?
    /// At most this many: the newest ones, still listed oldest first.
    public var limit: Int?
    /// A filter no snapshot can pass (an EC2 status or owner that does not exist).
    public var matchesNothing = false

    public init(
        ids: [String] = [], volumeIds: [String] = [], states: [SnapshotState] = [], tags: [TagFilter] = [],
        descriptions: [String] = [], since: Date? = nil, limit: Int? = nil
    ) {
        self.ids = ids
        self.volumeIds = volumeIds
        self.states = states
        self.tags = tags
        self.descriptions = descriptions
        self.since = since
        self.limit = limit
    }
}

extension Catalog {
    /// Every matching snapshot (or the newest `limit`), oldest first.
    public func snapshots(matching query: SnapshotQuery) async throws(SnaplabError) -> [Snapshot] {
        try await read { db in
            let request = Self.request(for: query)
            guard let limit = query.limit else {
                return try request.order(Snapshot.Columns.createdAt, Snapshot.Columns.id).fetchAll(db)
            }
            let newest = try request.order(Snapshot.Columns.createdAt.desc, Snapshot.Columns.id.desc)
                .limit(max(0, limit)).fetchAll(db)
            return newest.reversed()
        }
    }

    /// One page of the matching snapshots, oldest first (or newest first), after `token` (the previous page's
    /// `next`). Pages are keyed by (creation time, id), so snapshots added or deleted between two pages neither
    /// repeat nor shift the ones still to come.
    public func snapshots(
        matching query: SnapshotQuery, pageSize: Int, after token: PageToken?, newestFirst: Bool = false
    ) async throws(SnaplabError) -> CatalogPage<Snapshot> {
        let size = max(1, pageSize)
        return try await read { db in
            var request = Self.request(for: query)
            if let token {
                request = request.filter(
                    sql: "(snapshots.createdAt, snapshots.id) \(newestFirst ? "<" : ">") (?, ?)",
                    arguments: [token.createdAt, token.id])
            }
            let order =
                newestFirst
                ? [Snapshot.Columns.createdAt.desc, Snapshot.Columns.id.desc]
                : [Snapshot.Columns.createdAt.asc, Snapshot.Columns.id.asc]
            let rows = try request.order(order).limit(size + 1).fetchAll(db)
            let items = Array(rows.prefix(size))
            guard rows.count > size, let last = items.last,
                let createdAt = try String.fetchOne(
                    db, sql: "SELECT createdAt FROM snapshots WHERE id = ?", arguments: [last.id])
            else { return CatalogPage(items: items, next: nil) }
            return CatalogPage(items: items, next: PageToken(createdAt: createdAt, id: last.id))
        }
    }

    public func snapshotCount() async throws(SnaplabError) -> Int {
        try await read { db in try Snapshot.fetchCount(db) }
    }

    private static func request(for query: SnapshotQuery) -> QueryInterfaceRequest<Snapshot> {
        var request = Snapshot.all()
        if query.matchesNothing { return request.none() }
        if !query.ids.isEmpty { request = request.filter(TagFilter.matchAny("snapshots.id", query.ids)) }
        if !query.volumeIds.isEmpty {
            request = request.filter(TagFilter.matchAny("snapshots.volumeId", query.volumeIds))
        }
        if !query.states.isEmpty {
            request = request.filter(query.states.map(\.rawValue).contains(Snapshot.Columns.state))
        }
        if let since = query.since { request = request.filter(Snapshot.Columns.createdAt >= since) }
        if !query.descriptions.isEmpty {
            request = request.filter(
                TagFilter.matchAny(SQL(sql: "COALESCE(snapshots.description, '')"), query.descriptions))
        }
        for filter in query.tags {
            request = request.filter(filter.condition(kind: "snapshot", idColumn: "snapshots.id"))
        }
        return request
    }
}
