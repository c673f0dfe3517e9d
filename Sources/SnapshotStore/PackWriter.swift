import Foundation

/// Appends new chunks to packs and uploads each sealed pack (then its index) while more chunks are prepared.
/// Used by one task at a time. `finish()` returns once every chunk added is durable.
public final class PackWriter {
    private let store: SnapshotStore
    private let uploadsInFlight: Int
    private var packId = SnapshotStore.newPackId()
    private var pack = Data()
    private var entries: [(ChunkHash, ChunkLocation)] = []
    /// Chunks added by this writer (sealed or not), so a repeat within one snapshot is stored once.
    private var added: Set<ChunkHash> = []
    private var uploads: [Task<Void, any Error>] = []
    /// Stored (compressed) bytes this writer added.
    public private(set) var bytesStored: UInt64 = 0

    init(store: SnapshotStore, uploadsInFlight: Int) {
        self.store = store
        self.uploadsInFlight = max(1, uploadsInFlight)
        pack.reserveCapacity(store.config.packSize + (1 << 20))
    }

    /// Whether the store (or this writer) already has the chunk.
    public func has(_ hash: ChunkHash) -> Bool {
        added.contains(hash) || store.index.contains(hash)
    }

    /// Adds a prepared chunk unless the store already has it; returns whether it was new.
    @discardableResult
    public func add(hash: ChunkHash, codec: ChunkCodec, rawLength: Int, payload: Data) async throws(StoreError)
        -> Bool
    {
        guard !has(hash) else { return false }
        added.insert(hash)
        let offset = PackFormat.appendRecord(to: &pack, hash: hash, codec: codec, rawLength: rawLength,
                                             payload: payload)
        entries.append((hash, ChunkLocation(packId: packId, offset: offset, length: UInt32(payload.count),
                                            rawLength: UInt32(rawLength), codec: codec)))
        bytesStored += UInt64(payload.count)
        if pack.count >= store.config.packSize { try await seal() }
        return true
    }

    /// Uploads what is left and waits for every upload: afterwards all added chunks are durable and indexed.
    public func finish() async throws(StoreError) {
        if !entries.isEmpty { try await seal() }
        while !uploads.isEmpty { try await awaitOldestUpload() }
    }

    /// Stops without making anything visible; packs already uploaded stay as garbage for `gc`.
    public func abandon() {
        uploads.forEach { $0.cancel() }
        uploads.removeAll()
    }

    private func seal() async throws(StoreError) {
        let data = pack
        let sealedEntries = entries
        let sealedId = packId
        let store = self.store
        pack = Data()
        pack.reserveCapacity(store.config.packSize + (1 << 20))
        entries = []
        packId = SnapshotStore.newPackId()
        while uploads.count >= uploadsInFlight { try await awaitOldestUpload() }
        uploads.append(Task {
            // Pack first, index second: an index never points at a pack that is not there.
            try await store.backend.put(StoreLayout.pack(sealedId), data)
            try await store.backend.put(StoreLayout.index(sealedId), PackFormat.encodeIndex(sealedEntries))
            store.index.add(sealedEntries)
        })
    }

    private func awaitOldestUpload() async throws(StoreError) {
        let upload = uploads.removeFirst()
        do {
            try await upload.value
        } catch let error as StoreError {
            abandon()
            throw error
        } catch {
            abandon()
            throw StoreError(.io, "uploading a pack failed", cause: error)
        }
    }
}
