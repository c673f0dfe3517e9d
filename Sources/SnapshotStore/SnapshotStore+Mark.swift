import Blocking
import Foundation

extension SnapshotStore {
    /// Every chunk these snapshots use. Each manifest and chunk table is read once (the table as a stream of
    /// blocks, its checksum checked); any snapshot that cannot be read is an error, since its chunks would look
    /// unused. Tables are read volume by volume, oldest first, and compared entry by entry with the one before:
    /// an incremental snapshot shares most entries with its predecessor, and only the entries that differ need
    /// a lookup in the set. Skipping the rest is safe because an equal entry's hash is already in the set.
    func markLiveChunks(_ snapshots: [String]) async throws(StoreError) -> ChunkHashSet {
        let io = ThreadIO(backend: backend)
        let keys = self.keys
        let location = backend.location
        var manifests: [Manifest] = []
        manifests.reserveCapacity(snapshots.count)
        var start = 0
        while start < snapshots.count {
            let batch = Array(snapshots[start..<min(snapshots.count, start + Self.manifestsPerJob)])
            start += batch.count
            manifests += try await BlockingPool.run { () throws(StoreError) -> [Manifest] in
                var read: [Manifest] = []
                for snapshotId in batch {
                    read.append(try Self.readManifest(snapshotId, io: io, keys: keys, location: location))
                }
                return read
            }
        }
        manifests.sort { ($0.volumeId, $0.createdAt, $0.snapshotId) < ($1.volumeId, $1.createdAt, $1.snapshotId) }

        // Volumes in two lanes (each lane's tables are checksummed on its own thread); the set stays here.
        var volumes: [[Manifest]] = []
        for manifest in manifests {
            if volumes.last?.last?.volumeId == manifest.volumeId {
                volumes[volumes.count - 1].append(manifest)
            } else {
                volumes.append([manifest])
            }
        }
        let outcome = await withTaskGroup(of: Result<[ChunkHash], StoreError>.self) { group in
            var pending = volumes.makeIterator()
            var referenced = ChunkHashSet(minimumCapacity: 1 << 16)
            func start() {
                guard let tables = pending.next() else { return }
                group.addTask { await Self.markVolume(tables, io: io) }
            }
            for _ in 0..<Self.markLanes { start() }
            while let next = await group.next() {
                switch next {
                case .success(let changed): referenced.formUnion(changed)
                case .failure(let error):
                    group.cancelAll()
                    return Result<ChunkHashSet, StoreError>.failure(error)
                }
                start()
            }
            return .success(referenced)
        }
        return try outcome.get()
    }

    /// One volume's tables, oldest first, in jobs of a few tables: the hashes that differ from the table before.
    private static func markVolume(_ tables: [Manifest], io: ThreadIO) async -> Result<[ChunkHash], StoreError> {
        var changed: [ChunkHash] = []
        var previous = MarkedTable(volumeId: nil)
        var start = 0
        do throws(StoreError) {
            while start < tables.count {
                let batch = Array(tables[start..<min(tables.count, start + tablesPerJob)])
                start += batch.count
                let carried = previous
                let (more, last) = try await BlockingPool.run { () throws(StoreError) -> ([ChunkHash], MarkedTable) in
                    var previous = carried
                    var changed: [ChunkHash] = []
                    for manifest in batch {
                        previous = try markTable(manifest, after: previous, io: io, into: &changed)
                    }
                    return (changed, previous)
                }
                changed += more
                previous = last
            }
        } catch {
            return .failure(error)
        }
        return .success(changed)
    }

    static let markLanes = 2
    static let manifestsPerJob = 64
    static let tablesPerJob = 16
    /// Larger tables are not kept to compare the next one with (their entries are all looked up).
    static let largestComparedTable = 1 << 21

    /// A table kept to compare its volume's next one with.
    struct MarkedTable: Sendable {
        var volumeId: String?
        var indices: [UInt32] = []
        var hashes: [ChunkHash] = []
    }

    private static func readManifest(_ snapshotId: String, io: ThreadIO, keys: StoreKeys?, location: String)
        throws(StoreError) -> Manifest
    {
        do throws(StoreError) {
            try checkId(snapshotId)
            let key = StoreLayout.manifest(snapshotId)
            let data = try io.get(key)
            return try Manifest.decode(try keys?.openObject(data, key: key, at: location) ?? data, key: key)
        } catch {
            throw unreadable(snapshotId, error)
        }
    }

    /// Appends to `changed` the hashes of `manifest`'s table that differ from `previous` (the same volume's
    /// table before it), and returns this table to compare the next one with.
    private static func markTable(
        _ manifest: Manifest, after previous: MarkedTable, io: ThreadIO, into changed: inout [ChunkHash]
    ) throws(StoreError) -> MarkedTable {
        let comparable = previous.volumeId == manifest.volumeId
        let keep = manifest.table.entries <= largestComparedTable
        var current = MarkedTable(volumeId: manifest.volumeId)
        if keep {
            current.indices.reserveCapacity(manifest.table.entries)
            current.hashes.reserveCapacity(manifest.table.entries)
        }
        let table = ChunkTableReader(manifest, io: io)
        var position = 0
        do throws(StoreError) {
            while let (index, hash) = try table.next() {
                if comparable {
                    while position < previous.indices.count, previous.indices[position] < index { position += 1 }
                }
                let unchanged =
                    comparable && position < previous.indices.count && previous.indices[position] == index
                    && previous.hashes[position] == hash
                if !unchanged { changed.append(hash) }
                if keep {
                    current.indices.append(index)
                    current.hashes.append(hash)
                }
            }
        } catch {
            throw unreadable(manifest.snapshotId, error)
        }
        return keep ? current : MarkedTable(volumeId: nil)
    }

    private static func unreadable(_ snapshotId: String, _ error: StoreError) -> StoreError {
        StoreError(
            .corrupt,
            "garbage collection stopped: snapshot \(snapshotId) cannot be read (\(error.message)); repair or delete that snapshot first"
        )
    }

    /// How many distinct chunks the store's snapshots use: the marking half of garbage collection, under the
    /// shared lock (it deletes nothing).
    public func countLiveChunks(timeout: Duration = .seconds(600)) async throws(StoreError) -> Int {
        try await withStoreLock(exclusive: false, timeout: timeout) { () async throws(StoreError) in
            try await markLiveChunks(try await snapshotIds()).count
        }
    }
}
