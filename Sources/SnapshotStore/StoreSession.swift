import Blocking
import Crypto
import Foundation

/// A hold on the store for writing or reading snapshots: the store's shared lock, taken with the chunk index
/// brought up to date. Garbage collection (exclusive) waits until every session is released, so nothing a
/// session counts on is removed under it.
public final class StoreSession: Sendable {
    public let store: SnapshotStore
    private let lock: any StoreLock

    init(store: SnapshotStore, lock: any StoreLock) {
        self.store = store
        self.lock = lock
    }

    /// False once the lock may have been lost (an S3 lock that could not be refreshed): publish nothing then.
    public var isHeld: Bool { lock.isHeld }

    public func release() async {
        await lock.release()
    }

    /// A writer for a new snapshot of a `volumeSize`-byte volume; with `parent`, an incremental one (chunks not
    /// submitted are the parent's).
    public func makeSnapshotWriter(volumeSize: UInt64, parent: Manifest?) async throws(StoreError) -> SnapshotWriter {
        let scratch =
            store.backend is DirectoryBackend
            ? (store.backend as? DirectoryBackend)?.path(StoreLayout.tablesPrefix) ?? store.scratchDirectory
            : store.scratchDirectory
        return try await BlockingPool.run { () throws(StoreError) in
            try SnapshotWriter(session: self, volumeSize: volumeSize, parent: parent, scratchDirectory: scratch)
        }
    }

    /// Makes a snapshot visible: call only after its writer finished (every chunk and the table are durable).
    public func commit(_ manifest: Manifest) async throws(StoreError) {
        guard isHeld else {
            throw StoreError(
                .busy,
                "the store lock was lost during the copy (the store could not be reached to refresh it); take the snapshot again"
            )
        }
        try SnapshotStore.checkId(manifest.snapshotId)
        let key = StoreLayout.manifest(manifest.snapshotId)
        try await store.backend.put(key, try store.sealed(try manifest.encoded(), key: key))
    }

    /// Stores a snapshot whose chunk table is in memory (its chunks already in the store): the table object
    /// first, then the manifest that names it, so a manifest never points at a missing table.
    public func commit(_ manifest: Manifest, table: ChunkTable) async throws(StoreError) {
        var manifest = manifest
        var data = Data(capacity: table.count * ChunkTableReader.entrySize)
        var allocated: UInt64 = 0
        let chunkSize = UInt64(manifest.chunkSize)
        for (index, hash) in zip(table.indices, table.hashes) {
            withUnsafeBytes(of: index.littleEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: hash.bytes)
            allocated += min(chunkSize, manifest.volumeSize - min(manifest.volumeSize, UInt64(index) * chunkSize))
        }
        manifest.table = ChunkTableInfo(
            entries: table.count, sha256: ChunkHash(digest: SHA256.hash(data: data)).hex, allocatedBytes: allocated)
        try SnapshotStore.checkId(manifest.snapshotId)
        try await store.backend.put(StoreLayout.table(manifest.snapshotId), data)
        try await commit(manifest)
    }

    /// A reader of a completed snapshot, decoding ahead on its own threads; `close()` it when done.
    public func openReader(_ manifest: Manifest) async throws(StoreError) -> SnapshotReader {
        SnapshotReader(session: self, manifest: manifest)
    }
}

extension SnapshotStore {
    /// Takes the store's shared lock (waiting up to `timeout` for garbage collection) and brings the chunk index
    /// up to date.
    public func openSession(timeout: Duration = .seconds(600)) async throws(StoreError) -> StoreSession {
        let lock = try await backend.lock(exclusive: false, timeout: timeout)
        do {
            try await reloadIndex()
        } catch {
            await lock.release()
            throw error
        }
        return StoreSession(store: self, lock: lock)
    }

    /// Runs `body` in a session, released however `body` ends.
    public func withSession<T: Sendable>(
        timeout: Duration = .seconds(600),
        _ body: (StoreSession) async throws(StoreError) -> T
    )
        async throws(StoreError) -> T
    {
        let session = try await openSession(timeout: timeout)
        do {
            let result = try await body(session)
            await session.release()
            return result
        } catch {
            await session.release()
            throw error
        }
    }
}
