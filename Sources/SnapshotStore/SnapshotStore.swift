import Blocking
import Foundation

/// The snapshot store: manifests, chunk tables, packs of content-addressed chunks, and their indexes, on one
/// backend. Snapshots are written through a `StoreSession` (`SnapshotWriter`) and read back through one
/// (`SnapshotReader`); the session holds the store lock, so garbage collection never runs under them.
public final class SnapshotStore: Sendable {
    public let backend: any ObjectBackend
    public let config: StoreConfig
    public let index: ChunkIndex
    /// Where chunk tables are spooled before they are published, for backends that are not a local directory.
    let scratchDirectory: String
    /// An encrypted store's keys (nil: a plain store).
    let keys: StoreKeys?

    public var isEncrypted: Bool { keys != nil }

    private init(
        backend: any ObjectBackend, config: StoreConfig, index: ChunkIndex, scratchDirectory: String, keys: StoreKeys?
    ) {
        self.backend = backend
        self.config = config
        self.index = index
        self.scratchDirectory = scratchDirectory
        self.keys = keys
    }

    /// The backend a store URL names: `dir:///path` (or a plain path), or `s3://bucket/prefix[?endpoint=…]`.
    public static func backend(for url: String) throws(StoreError) -> any ObjectBackend {
        if url.hasPrefix("dir://") { return DirectoryBackend(root: URL(fileURLWithPath: String(url.dropFirst(6)))) }
        if url.hasPrefix("/") { return DirectoryBackend(root: URL(fileURLWithPath: url)) }
        if url.hasPrefix("s3://") { return S3Backend(location: try S3Location.parse(url)) }
        throw StoreError(.unsupported, "unknown store URL '\(url)'; use dir:///PATH or s3://bucket/prefix")
    }

    /// Opens the store on `backend`, creating it (config object) if it is empty, and brings the chunk index up
    /// to date. `cacheDirectory` keeps the local chunk index between runs (nil: a temporary one).
    /// An encrypted store opens with `key`; a store made now is encrypted when `encrypt` names its first key.
    public static func open(
        _ backend: any ObjectBackend, cacheDirectory: URL? = nil, key: StoreKeySource? = nil,
        encrypt: StoreKeySource? = nil
    ) async throws(StoreError) -> SnapshotStore {
        try await open(backend, cacheDirectory: cacheDirectory, recentIndexLimit: 64 * 1024, key: key, encrypt: encrypt)
    }

    static func open(
        _ backend: any ObjectBackend, cacheDirectory: URL?, recentIndexLimit: Int, key: StoreKeySource? = nil,
        encrypt: StoreKeySource? = nil
    ) async throws(StoreError) -> SnapshotStore {
        try await backend.prepare()
        var config: StoreConfig
        var keys: StoreKeys?
        if try await backend.exists(StoreLayout.config) {
            let data = try await backend.get(StoreLayout.config)
            do {
                config = try JSONDecoder.store.decode(StoreConfig.self, from: data)
            } catch {
                throw StoreError(
                    .corrupt, "\(backend.location)/config.json is not a snaplab store config", cause: error)
            }
            guard (4096...PackFormat.maxChunkSize).contains(config.chunkSize),
                (config.chunkSize...(1 << 30)).contains(config.packSize), config.version >= 1
            else {
                throw StoreError(
                    .corrupt,
                    "\(backend.location)/config.json names chunk size \(config.chunkSize) and pack size \(config.packSize); it is damaged"
                )
            }
            guard config.format == StoreConfig.formatName, config.version <= StoreConfig.currentVersion else {
                throw StoreError(
                    .unsupported,
                    "\(backend.location) is a \(config.format) v\(config.version) store; this snaplab reads \(StoreConfig.formatName) v\(StoreConfig.currentVersion)"
                )
            }
            if config.encryption != nil {
                keys = try config.unlock(key ?? encrypt, at: backend.location)
            } else if config.version >= 2 {
                throw StoreError(
                    .corrupt,
                    "\(backend.location)/config.json says version \(config.version) (encrypted) but has no encryption settings: it was changed; restore it from a copy"
                )
            } else if key != nil && encrypt == nil {
                // A lab that holds a key expects an encrypted store: a plain one here may have been swapped in.
                throw StoreError(
                    .keyRequired,
                    "\(backend.location) is not encrypted, yet a store key was given (SNAPLAB_STORE_KEY_FILE, SNAPLAB_STORE_PASSPHRASE or the lab's recorded key file); check that this is the right store"
                )
            } else if let encrypt {
                // A plain store that holds nothing yet may become an encrypted one; one with data may not.
                for prefix in [
                    StoreLayout.snapshotsPrefix, StoreLayout.packsPrefix, StoreLayout.indexPrefix,
                    StoreLayout.documentsPrefix, StoreLayout.artifactsPrefix,
                ] where try await !backend.list(prefix: prefix).isEmpty {
                    throw StoreError(
                        .unsupported,
                        "\(backend.location) is a plain store with data in it; an encrypted store must start empty (use a new location)"
                    )
                }
                (config, keys) = try StoreConfig.encrypted(encrypt, note: nil)
                try await writeConfig(config, to: backend)
            }
        } else {
            if let encrypt {
                (config, keys) = try StoreConfig.encrypted(encrypt, note: nil)
            } else if key != nil {
                throw StoreError(
                    .keyRequired,
                    "\(backend.location) holds no store, yet a store key was given: it would be made plain; `host init --encrypt` makes an encrypted one"
                )
            } else {
                config = StoreConfig()
            }
            try await writeConfig(config, to: backend)
        }
        let index = try await BlockingPool.run { () throws(StoreError) in
            try ChunkIndex(directory: cacheDirectory, recentLimit: recentIndexLimit)
        }
        let scratch = cacheDirectory?.path ?? FileManager.default.temporaryDirectory.path
        let store = SnapshotStore(
            backend: backend, config: config, index: index, scratchDirectory: scratch, keys: keys)
        try await store.reloadIndex()
        return store
    }

    static func writeConfig(_ config: StoreConfig, to backend: any ObjectBackend) async throws(StoreError) {
        do {
            try await backend.put(StoreLayout.config, try JSONEncoder.store.encode(config))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.io, "cannot encode the store config", cause: error)
        }
    }

    /// Brings the chunk index up to date with the store's index objects (packs written by other processes
    /// become visible; packs garbage collection removed disappear).
    public func reloadIndex() async throws(StoreError) {
        let keys = Set(
            try await backend.list(prefix: StoreLayout.indexPrefix).filter { StoreLayout.packId(ofIndex: $0) != nil })
        let io = ThreadIO(backend: backend)
        let index = self.index
        try await BlockingPool.run { () throws(StoreError) in try index.synchronize(keys: keys, io: io) }
    }

    // MARK: Manifests

    public func snapshotIds() async throws(StoreError) -> [String] {
        try await backend.list(prefix: StoreLayout.snapshotsPrefix).compactMap(StoreLayout.snapshotId(ofManifest:))
            .sorted()
    }

    public func manifest(_ snapshotId: String) async throws(StoreError) -> Manifest {
        try Self.checkId(snapshotId)
        let key = StoreLayout.manifest(snapshotId)
        return try Manifest.decode(try opened(try await backend.get(key), key: key), key: key)
    }

    public func hasManifest(_ snapshotId: String) async throws(StoreError) -> Bool {
        try Self.checkId(snapshotId)
        return try await backend.exists(StoreLayout.manifest(snapshotId))
    }

    /// Removes a snapshot's manifest (first: it stops being listed), then its chunk table; its chunks stay until
    /// garbage collection finds them unused. A tombstone written first tells that collection the snapshot was
    /// deleted, not lost from a listing.
    public func deleteSnapshot(_ snapshotId: String) async throws(StoreError) {
        try Self.checkId(snapshotId)
        try await backend.put(StoreLayout.tombstone(snapshotId), Data())
        try await backend.delete(StoreLayout.manifest(snapshotId))
        try await backend.delete(StoreLayout.table(snapshotId))
    }

    /// A snapshot's whole chunk table in memory: for small tables and tests; restores and copies stream it.
    public func chunkTable(of manifest: Manifest) async throws(StoreError) -> ChunkTable {
        let io = ThreadIO(backend: backend)
        return try await BlockingPool.run { () throws(StoreError) -> ChunkTable in
            let reader = ChunkTableReader(manifest, io: io)
            var table = ChunkTable()
            while let (index, hash) = try reader.next() { table.append(index, hash) }
            return table
        }
    }

    // MARK: Sealing

    /// A whole object as it is stored: sealed in an encrypted store.
    func sealed(_ data: Data, key: String) throws(StoreError) -> Data {
        guard let keys else { return data }
        return try keys.sealObject(data, key: key)
    }

    /// A whole object as it was written: opened (and authenticated) in an encrypted store.
    func opened(_ data: Data, key: String) throws(StoreError) -> Data {
        guard let keys else { return data }
        return try keys.openObject(data, key: key, at: backend.location)
    }

    /// A chunk's name: SHA-256 of its bytes, or in an encrypted store their HMAC-SHA-256.
    public func name(_ bytes: UnsafeRawBufferPointer) -> ChunkHash {
        keys?.name(bytes) ?? ChunkHash.of(bytes)
    }

    public func name(_ data: Data) -> ChunkHash { data.withUnsafeBytes { name($0) } }

    /// A coder for one thread of this store's chunk work.
    func coder() -> ChunkCoder { ChunkCoder(keys: keys) }

    // MARK: Chunks

    /// A chunk's raw bytes, checked against its hash.
    public func readChunk(_ hash: ChunkHash) async throws(StoreError) -> Data {
        guard let location = index.location(of: hash) else {
            throw StoreError(.notFound, "chunk \(hash) is not in the store; run `snaplab store verify`")
        }
        let record = try await backend.get(
            StoreLayout.pack(location.pack), offset: location.recordStart,
            length: Int(location.recordEnd - location.recordStart))
        return try record.withBytes { (bytes) throws(StoreError) -> Data in
            try Self.decodeChunk(bytes, recordAt: 0, location: location, hash: hash, coder: coder())
        }
    }

    /// Decodes and verifies the chunk whose record starts at `position` of `bytes` (part of its pack).
    static func decodeChunk(
        _ bytes: UnsafeRawBufferPointer, recordAt position: Int, location: ChunkLocation,
        hash: ChunkHash, coder: ChunkCoder
    ) throws(StoreError) -> Data {
        let payload = try PackFormat.payload(in: bytes, recordAt: position, location: location, hash: hash)
        var raw = Data(count: Int(location.rawLength))
        try raw.withMutableBytes { (destination) throws(StoreError) in
            try coder.decode(payload, codec: location.codec, hash: hash, into: destination)
        }
        guard coder.name(raw) == hash else {
            throw StoreError(
                .corrupt,
                "chunk \(hash) in pack \(location.packId) does not match its hash; the store is damaged (`snaplab store verify` lists what it breaks)"
            )
        }
        return raw
    }

    static func checkId(_ id: String) throws(StoreError) {
        guard StoreLayout.isSafeComponent(id) else {
            throw StoreError(.notFound, "'\(id)' is not a valid snapshot id")
        }
    }
}

/// Dates in store objects: ISO 8601 UTC with milliseconds (whole-second ISO 8601 is read too).
enum StoreDates {
    static func round(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    static func format(_ date: Date) -> String {
        ISOTimestamp.string(date)
    }

    static func parse(_ text: String) -> Date? {
        if let date = ISOTimestamp.parse(text) { return round(date) }
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return round(date) }
        return ISO8601DateFormatter().date(from: text)
    }
}

extension JSONEncoder {
    static var store: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(StoreDates.format(date))
        }
        return encoder
    }
}

extension JSONDecoder {
    static var store: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = StoreDates.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
            }
            return date
        }
        return decoder
    }
}

extension SnapshotStore {
    /// Runs `body` holding the store lock (shared for writers and verify, exclusive for garbage collection),
    /// releasing it however `body` ends.
    public func withStoreLock<T: Sendable>(
        exclusive: Bool, timeout: Duration,
        _ body: () async throws(StoreError) -> T
    ) async throws(StoreError) -> T {
        let lock = try await backend.lock(exclusive: exclusive, timeout: timeout)
        do {
            let result = try await body()
            await lock.release()
            return result
        } catch {
            await lock.release()
            throw error
        }
    }
}
