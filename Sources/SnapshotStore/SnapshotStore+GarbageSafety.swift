import Foundation

/// How cautious garbage collection is.
public struct GarbageOptions: Sendable {
    /// A pack that is at least this dead is rewritten with its live chunks.
    public var rewriteWhenDeadFraction = 0.5
    /// A pack no index describes is deleted only once it is this old: a writer that lost its lock (a stalled
    /// S3 client) may still be about to index it.
    public var unindexedGrace: Duration = .seconds(3600)
    /// Sweep even when snapshots the last collection saw vanished without being deleted through the store.
    public var acceptMissing = false

    public init(
        rewriteWhenDeadFraction: Double = 0.5, unindexedGrace: Duration = .seconds(3600), acceptMissing: Bool = false
    ) {
        self.rewriteWhenDeadFraction = rewriteWhenDeadFraction
        self.unindexedGrace = unindexedGrace
        self.acceptMissing = acceptMissing
    }
}

/// The snapshots one collection marked from; the next one checks that each is still listed or was deleted.
struct GarbageMark: Codable {
    var snapshots: [String]
}

extension SnapshotStore {
    /// Refuses to sweep when the listing lacks a snapshot the last collection saw and nobody deleted it: a
    /// listing that hides manifests (an unreadable directory, a lost page) would make their chunks look unused.
    /// Returns the tombstones this collection accounts for.
    func checkListingIsComplete(_ listed: [String], acceptMissing: Bool) async throws(StoreError) -> [String] {
        let tombstones = try await backend.list(prefix: StoreLayout.tombstonesPrefix)
        let deleted = Set(tombstones.map { String($0.dropFirst(StoreLayout.tombstonesPrefix.count)) })
        guard !acceptMissing else { return tombstones }
        let data: Data
        do throws(StoreError) {
            data = try await backend.get(StoreLayout.lastMark)
        } catch  where error.kind == .notFound {
            return tombstones  // The first collection of this store has nothing to compare with.
        }
        let mark: GarbageMark
        do {
            mark = try JSONDecoder().decode(GarbageMark.self, from: data)
        } catch {
            throw StoreError(
                .corrupt,
                "\(StoreLayout.lastMark) is damaged; check the store, then run `snaplab store gc --accept-missing`")
        }
        let present = Set(listed)
        let vanished = mark.snapshots.filter { !present.contains($0) && !deleted.contains($0) }
        guard vanished.isEmpty else {
            let names = vanished.prefix(5).joined(separator: ", ") + (vanished.count > 5 ? ", …" : "")
            throw StoreError(
                .corrupt,
                "garbage collection refused: \(vanished.count) snapshot(s) the last collection saw are not listed and were never deleted (\(names)); the listing may be incomplete or their manifests removed by hand. Check \(backend.location); if they are really gone, run `snaplab store gc --accept-missing`"
            )
        }
        return tombstones
    }

    /// Remembers what this collection marked from, then drops the tombstones it accounted for.
    func recordMark(_ listed: [String], tombstones: [String]) async throws(StoreError) {
        let data: Data
        do {
            data = try JSONEncoder().encode(GarbageMark(snapshots: listed))
        } catch {
            throw StoreError(.io, "cannot encode \(StoreLayout.lastMark)", cause: error)
        }
        try await backend.put(StoreLayout.lastMark, data)
        for key in tombstones { try await backend.delete(key) }
    }

    /// Whether an unindexed pack is too young to be called abandoned.
    func isWithinGrace(_ key: String, grace: Duration) async throws(StoreError) -> Bool {
        guard grace > .zero else { return false }
        do throws(StoreError) {
            let age = Date().timeIntervalSince(try await backend.modified(key))
            return age < grace.seconds
        } catch  where error.kind == .notFound {
            return true
        }
    }
}
