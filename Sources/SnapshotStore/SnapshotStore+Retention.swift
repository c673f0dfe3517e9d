import Blocking
import Foundation

extension SnapshotStore {
    /// Holds what a snapshot is made of (its manifest, chunk table and every pack its chunks are in) against
    /// deletion until `until`, where the backend has object lock. Returns how many objects are held, or nil
    /// when the backend cannot hold any (a directory, a bucket without object lock). A pack shared with
    /// other snapshots keeps the latest date any of them asked for.
    public func retain(_ snapshotId: String, until: Date, compliance: Bool) async throws(StoreError) -> Int? {
        guard try await backend.retentionSupported() else { return nil }
        let packs = try await packs(of: snapshotId)
        // Packs first, the manifest last: a manifest that is held names only packs that are held.
        for pack in packs.sorted(by: { $0.hex < $1.hex }) {
            try await backend.retain(StoreLayout.pack(pack), until: until, compliance: compliance)
        }
        try await backend.retain(StoreLayout.table(snapshotId), until: until, compliance: compliance)
        try await backend.retain(StoreLayout.manifest(snapshotId), until: until, compliance: compliance)
        return packs.count + 2
    }

    /// Lets go of a snapshot's governance retention (its lock was lifted): each of its objects is held only as
    /// long as `others` (the snapshots still locked, with their end) need it, or a minute. Compliance retention
    /// cannot be shortened and stays. Returns how many objects were shortened, or nil without object lock.
    public func release(_ snapshotId: String, keepingFor others: [String: Date]) async throws(StoreError) -> Int? {
        guard try await backend.retentionSupported() else { return nil }
        var neededUntil: [PackID: Date] = [:]
        for (other, until) in others where other != snapshotId {
            for pack in try await packs(of: other) { neededUntil[pack] = max(until, neededUntil[pack] ?? until) }
        }
        let soon = Date().addingTimeInterval(60)
        var shortened = 0
        // The manifest first, packs last: a pack is never held less than a manifest that names it.
        for key in [StoreLayout.manifest(snapshotId), StoreLayout.table(snapshotId)] {
            if try await backend.shortenGovernance(key, to: soon) { shortened += 1 }
        }
        for pack in try await packs(of: snapshotId) {
            let until = max(soon, neededUntil[pack] ?? soon)
            if try await backend.shortenGovernance(StoreLayout.pack(pack), to: until) { shortened += 1 }
        }
        return shortened
    }

    /// The packs that hold a snapshot's chunks.
    func packs(of snapshotId: String) async throws(StoreError) -> Set<PackID> {
        let manifest = try await self.manifest(snapshotId)
        let io = ThreadIO(backend: backend)
        let index = self.index
        return try await BlockingPool.run { () throws(StoreError) -> Set<PackID> in
            let reader = ChunkTableReader(manifest, io: io)
            var packs = Set<PackID>()
            while let (_, hash) = try reader.next() {
                guard let location = index.location(of: hash) else {
                    throw StoreError(.corrupt, "snapshot \(snapshotId) needs chunk \(hash), which no index names")
                }
                packs.insert(location.pack)
            }
            return packs
        }
    }
}
