import Foundation

/// The writer's packs: records appended in order into a pack buffer (packing thread), sealed packs written by
/// uploader threads (one write and one fsync each on a directory store; a PUT on S3) while the next fills, and
/// index objects published for packs that are durable — every `SnapshotWriter.publishEvery` chunks and at the
/// end — so the chunks not yet in an index stay few.
final class PackPipeline: @unchecked Sendable {
    // @unchecked: `current` belongs to the packing thread; `pending`, `durable`, `writtenPacks` and
    // `bytesStored` are only touched with `lock` held; buffers move between threads through the queues.
    private let store: SnapshotStore
    private let io: ThreadIO
    private let uploaders: Int
    private let failure: PipelineFailure
    private let free: BlockingQueue<PackBuffer>
    private let sealed: BlockingQueue<PackBuffer>
    private var current: PackBuffer?
    private let lock = NSLock()
    private let publishing = NSLock()
    private var pending: [ChunkHash: ChunkLocation] = [:]
    private var durable: [IndexEntry] = []
    private var writtenPacks: [String] = []
    private var stored: UInt64 = 0
    private var packed: UInt64 = 0

    init(store: SnapshotStore, io: ThreadIO, uploaders: Int, failure: PipelineFailure) {
        self.store = store
        self.io = io
        self.uploaders = uploaders
        self.failure = failure
        free = BlockingQueue(capacity: uploaders + 1)
        sealed = BlockingQueue(capacity: uploaders + 1)
        for _ in 0...uploaders { free.put(PackBuffer(config: store.config)) }
    }

    func start(_ threads: StageThreads) {
        threads.start("snaplab-upload", threads: uploaders) { [self] _ in uploadLoop() }
    }

    /// Wakes every stage waiting on a pack (after a failure).
    func stop() {
        free.close()
        sealed.close()
    }

    var bytesStored: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    /// Uncompressed bytes of the chunks this writer packed (new to the store).
    var bytesPacked: UInt64 {
        lock.lock()
        defer { lock.unlock() }
        return packed
    }

    /// Whether the store or this writer already has the chunk.
    func knows(_ hash: ChunkHash) -> Bool {
        lock.lock()
        let mine = pending[hash] != nil
        lock.unlock()
        return mine || store.index.contains(hash)
    }

    /// Appends a record unless the chunk was added already (a repeat within the volume). Packing thread.
    /// Appends a chunk's record: its payload sealed on the way in an encrypted store, unless `verbatim` (a
    /// record copied as it is stored).
    func add(
        hash: ChunkHash, codec: ChunkCodec, rawLength: Int, payload: UnsafeRawBufferPointer, verbatim: Bool = false
    ) throws(StoreError) {
        lock.lock()
        let repeated = pending[hash] != nil
        lock.unlock()
        if repeated { return }
        if current == nil {
            guard let next = free.take() else {
                throw failure.current ?? StoreError(.io, "the snapshot writer was stopped")
            }
            next.start()
            current = next
        }
        guard let pack = current else { return }
        let location: ChunkLocation
        if let keys = store.keys, !verbatim {
            location = try pack.appendSealed(
                hash: hash, codec: codec, rawLength: rawLength, payload: payload, keys: keys)
        } else {
            location = pack.append(hash: hash, codec: codec, rawLength: rawLength, payload: payload)
        }
        lock.lock()
        pending[hash] = location
        stored += UInt64(location.length)
        packed += UInt64(rawLength)
        lock.unlock()
        if pack.used >= store.config.packSize { try seal() }
    }

    /// Seals the pack being filled, if any. Packing thread, after the last record.
    func sealLast() throws(StoreError) {
        if current?.entries.isEmpty == false { try seal() }
        sealed.close()
    }

    private func seal() throws(StoreError) {
        guard let pack = current else { return }
        current = nil
        guard sealed.put(pack) else { throw failure.current ?? StoreError(.io, "the snapshot writer was stopped") }
    }

    private func uploadLoop() {
        while let pack = sealed.take() {
            do throws(StoreError) {
                try failure.check()
                let key = StoreLayout.pack(pack.id)
                try io.putPack(key, pack.memory, length: pack.used)
                lock.lock()
                durable += pack.entries
                writtenPacks.append(key)
                let due = durable.count >= SnapshotWriter.publishEvery
                lock.unlock()
                if due { try publishIndex() }
            } catch {
                failure.fail(error)
            }
            free.put(pack)
        }
    }

    /// Publishes an index object for every durable pack not yet indexed: their directory entries made durable
    /// first, so an index never names a pack a crash could lose.
    func publishIndex() throws(StoreError) {
        publishing.lock()
        defer { publishing.unlock() }
        lock.lock()
        var entries = durable
        let packs = writtenPacks
        durable.removeAll()
        writtenPacks.removeAll()
        lock.unlock()
        guard !entries.isEmpty else { return }
        if let directory = store.backend as? DirectoryBackend { try directory.syncDirectories(of: packs) }
        entries.sort { $0.hash < $1.hash }
        let key = StoreLayout.index(PackID.random().hex)
        try io.put(key, PackFormat.encodeIndex(entries))
        try store.index.add(entries, source: key, io: io)
        lock.lock()
        for entry in entries { pending.removeValue(forKey: entry.hash) }
        lock.unlock()
    }
}

/// One pack being filled: records back to back, and the index entries for them.
final class PackBuffer: @unchecked Sendable {
    // @unchecked: used by one thread at a time, handed over through the pack queues.
    let memory: UnsafeMutableRawBufferPointer
    private(set) var id = PackID.random()
    private(set) var used = 0
    private(set) var entries: [IndexEntry] = []

    /// Room for a pack that is sealed once it reaches the pack size (so up to one record more), rounded up to
    /// whole 4 KiB pages and one page more, for writes past the page cache.
    init(config: StoreConfig) {
        let bytes = config.packSize + PackFormat.recordHeaderSize + config.chunkSize + StoreKeys.overhead
        let page = DirectoryBackend.directAlignment
        memory = UnsafeMutableRawBufferPointer.allocate(
            byteCount: (bytes + page - 1) / page * page + page, alignment: page)
    }

    deinit {
        memory.deallocate()
    }

    /// Empties the buffer for a new pack.
    func start() {
        id = PackID.random()
        used = 0
        entries.removeAll(keepingCapacity: true)
    }

    func append(hash: ChunkHash, codec: ChunkCodec, rawLength: Int, payload: UnsafeRawBufferPointer) -> ChunkLocation {
        PackFormat.writeRecordHeader(
            memory, at: used, hash: hash, codec: codec, rawLength: rawLength,
            length: payload.count)
        let offset = used + PackFormat.recordHeaderSize
        UnsafeMutableRawBufferPointer(rebasing: memory[offset..<(offset + payload.count)]).copyMemory(from: payload)
        used = offset + payload.count
        let location = ChunkLocation(
            pack: id, offset: UInt32(offset), length: UInt32(payload.count),
            rawLength: UInt32(rawLength), codec: codec)
        entries.append(IndexEntry(hash, location))
        return location
    }

    /// Like `append`, with the payload sealed (AES-256-GCM, the chunk's name as associated data) straight into
    /// the pack.
    func appendSealed(
        hash: ChunkHash, codec: ChunkCodec, rawLength: Int, payload: UnsafeRawBufferPointer, keys: StoreKeys
    ) throws(StoreError) -> ChunkLocation {
        let length = payload.count + StoreKeys.overhead
        PackFormat.writeRecordHeader(memory, at: used, hash: hash, codec: codec, rawLength: rawLength, length: length)
        let offset = used + PackFormat.recordHeaderSize
        try hash.bytes.withBytes { (context) throws(StoreError) in
            try keys.seal(
                payload, context: context,
                into: UnsafeMutableRawBufferPointer(rebasing: memory[offset..<(offset + length)]))
        }
        used = offset + length
        let location = ChunkLocation(
            pack: id, offset: UInt32(offset), length: UInt32(length), rawLength: UInt32(rawLength), codec: codec)
        entries.append(IndexEntry(hash, location))
        return location
    }
}
