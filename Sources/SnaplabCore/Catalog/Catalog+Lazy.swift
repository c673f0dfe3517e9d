import Foundation
import GRDB

extension Catalog {
    /// Volumes that still read from a snapshot's export (on one host, or everywhere).
    public func lazyVolumes(host: String? = nil) async throws(SnaplabError) -> [Volume] {
        try await read { db in
            var request = Volume.filter(Column("lazy") != nil)
            if let host { request = request.filter(Column("host") == host) }
            return try request.order(Volume.Columns.createdAt, Volume.Columns.id).fetchAll(db)
        }
    }

    /// Lazy volumes that read from this snapshot: it must not go while they do.
    public func lazyVolumes(readingFrom snapshotId: String) async throws(SnaplabError) -> [Volume] {
        try await lazyVolumes().filter { $0.lazy?.snapshotId == snapshotId }
    }

    /// Records how a lazy volume's hydration stands; a volume that is no longer lazy stays as it is.
    public func setLazyState(_ volumeId: String, _ state: LazySource.State, reason: String?)
        async throws(SnaplabError)
    {
        try await write { db in
            guard var volume = try Volume.fetchOne(db, key: volumeId), var lazy = volume.lazy,
                lazy.state != state || lazy.reason != reason
            else { return }
            lazy.state = state
            lazy.reason = reason
            volume.lazy = lazy
            try volume.update(db)
        }
    }

    /// A lazy volume now sits on its local base, in `poolVolume` at `path` (a block copy's target, or the same
    /// file after a rebase). A copy's target holds none of the old file's dirty bitmaps: the next snapshot then
    /// reads the whole volume (and still stores only what changed).
    public func finishLazy(_ volumeId: String, poolVolume: String, path: String) async throws(SnaplabError) {
        try await write { db in
            guard var volume = try Volume.fetchOne(db, key: volumeId) else { return }
            volume.lazy = nil
            if path != volume.path { volume.cbtBase = nil }
            volume.poolVolume = poolVolume
            volume.path = path
            try volume.update(db)
        }
    }

    public func setBaseProgress(snapshot snapshotId: String, host: String, percent: Double)
        async throws(SnaplabError)
    {
        try await write { db in
            try db.execute(
                sql: "UPDATE bases SET progress = ? WHERE snapshotId = ? AND host = ?",
                arguments: [percent, snapshotId, host])
        }
    }
}
