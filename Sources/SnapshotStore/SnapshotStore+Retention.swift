import Blocking
import Foundation

extension SnapshotStore {
    /// Holds what a snapshot is made of (its manifest, chunk table and every pack its chunks are in) against
    /// deletion until `until`, where the backend has object lock. Returns how many objects are held, or nil
    /// when the backend cannot hold any (a directory, a bucket without object lock). A pack shared with
    /// other snapshots keeps the latest date any of them asked for.
    public func retain(_ snapshotId: String, until: Date, compliance: Bool) async throws(StoreError) -> Int? {
        guard try await backend.retentionSupported() else { return nil }
        let manifest = try await self.manifest(snapshotId)
        let io = ThreadIO(backend: backend)
        let index = self.index
        let packs = try await BlockingPool.run { () throws(StoreError) -> Set<PackID> in
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
        // Packs first, the manifest last: a manifest that is held names only packs that are held.
        for pack in packs.sorted(by: { $0.hex < $1.hex }) {
            try await backend.retain(StoreLayout.pack(pack), until: until, compliance: compliance)
        }
        try await backend.retain(StoreLayout.table(snapshotId), until: until, compliance: compliance)
        try await backend.retain(StoreLayout.manifest(snapshotId), until: until, compliance: compliance)
        return packs.count + 2
    }
}
