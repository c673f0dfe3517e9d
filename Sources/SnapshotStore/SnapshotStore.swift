import Foundation

/// The snapshot store: manifests, packs of content-addressed chunks, and their indexes, on one backend.
public final class SnapshotStore: Sendable {
    public let backend: any ObjectBackend
    public let config: StoreConfig
    public let index: ChunkIndex

    private init(backend: any ObjectBackend, config: StoreConfig) {
        self.backend = backend
        self.config = config
        index = ChunkIndex()
    }

    /// The backend a store URL names: `dir:///path` (or a plain path), or `s3://bucket/prefix[?endpoint=…]`.
    public static func backend(for url: String) throws(StoreError) -> any ObjectBackend {
        if url.hasPrefix("dir://") { return DirectoryBackend(root: URL(fileURLWithPath: String(url.dropFirst(6)))) }
        if url.hasPrefix("/") { return DirectoryBackend(root: URL(fileURLWithPath: url)) }
        if url.hasPrefix("s3://") { return S3Backend(location: try S3Location.parse(url)) }
        throw StoreError(.unsupported, "unknown store URL '\(url)'; use dir:///PATH or s3://bucket/prefix")
    }

    /// Opens the store on `backend`, creating it (config object) if it is empty, and loads the chunk index.
    public static func open(_ backend: any ObjectBackend) async throws(StoreError) -> SnapshotStore {
        try await backend.prepare()
        let config: StoreConfig
        if try await backend.exists(StoreLayout.config) {
            let data = try await backend.get(StoreLayout.config)
            do {
                config = try JSONDecoder.store.decode(StoreConfig.self, from: data)
            } catch {
                throw StoreError(.corrupt, "\(backend.location)/config.json is not a snaplab store config", cause: error)
            }
            guard config.format == StoreConfig.formatName, config.version <= StoreConfig.currentVersion else {
                throw StoreError(.unsupported, "\(backend.location) is a \(config.format) v\(config.version) store; this snaplab reads \(StoreConfig.formatName) v\(StoreConfig.currentVersion)")
            }
        } else {
            config = StoreConfig()
            do {
                try await backend.put(StoreLayout.config, try JSONEncoder.store.encode(config))
            } catch let error as StoreError {
                throw error
            } catch {
                throw StoreError(.io, "cannot encode the store config", cause: error)
            }
        }
        let store = SnapshotStore(backend: backend, config: config)
        try await store.reloadIndex()
        return store
    }

    /// Re-reads every index object (packs written by other processes become visible).
    public func reloadIndex() async throws(StoreError) {
        var all: [(ChunkHash, ChunkLocation)] = []
        for key in try await backend.list(prefix: StoreLayout.indexPrefix) {
            guard let packId = StoreLayout.packId(ofIndex: key) else { continue }
            all.append(contentsOf: try PackFormat.decodeIndex(try await backend.get(key), packId: packId))
        }
        index.replaceAll(all)
    }

    // MARK: Manifests

    public func snapshotIds() async throws(StoreError) -> [String] {
        try await backend.list(prefix: StoreLayout.snapshotsPrefix).compactMap(StoreLayout.snapshotId(ofManifest:))
            .sorted()
    }

    public func manifest(_ snapshotId: String) async throws(StoreError) -> Manifest {
        try Self.checkId(snapshotId)
        let key = StoreLayout.manifest(snapshotId)
        return try Manifest.decode(try await backend.get(key), key: key)
    }

    public func hasManifest(_ snapshotId: String) async throws(StoreError) -> Bool {
        try Self.checkId(snapshotId)
        return try await backend.exists(StoreLayout.manifest(snapshotId))
    }

    /// Makes a snapshot visible: call only after every chunk it lists is durable (`PackWriter.finish`).
    public func commit(_ manifest: Manifest) async throws(StoreError) {
        try Self.checkId(manifest.snapshotId)
        try await backend.put(StoreLayout.manifest(manifest.snapshotId), try manifest.encoded())
    }

    /// Removes a snapshot's manifest; its chunks stay until garbage collection finds them unused.
    public func deleteSnapshot(_ snapshotId: String) async throws(StoreError) {
        try Self.checkId(snapshotId)
        try await backend.delete(StoreLayout.manifest(snapshotId))
    }

    // MARK: Chunks

    /// A chunk's raw bytes, checked against its hash.
    public func readChunk(_ hash: ChunkHash) async throws(StoreError) -> Data {
        guard let location = index.location(of: hash) else {
            throw StoreError(.notFound, "chunk \(hash) is not in the store; run `snaplab store verify`")
        }
        return try Self.decodeRecord(try await fetchRecord(location), location: location, hash: hash)
    }

    /// One chunk's stored record (header and payload), to decode with `decodeRecord`.
    public func fetchRecord(_ location: ChunkLocation) async throws(StoreError) -> Data {
        let headerStart = UInt64(location.offset) - UInt64(PackFormat.recordHeaderSize)
        return try await backend.get(StoreLayout.pack(location.packId), offset: headerStart,
                                     length: PackFormat.recordHeaderSize + Int(location.length))
    }

    /// Decodes and verifies a record fetched with `fetchRecord`.
    public static func decodeRecord(_ record: Data, location: ChunkLocation, hash: ChunkHash) throws(StoreError)
        -> Data
    {
        var relative = location
        relative.offset = UInt32(PackFormat.recordHeaderSize)
        return try decodeChunk(in: record, at: relative, hash: hash)
    }

    /// Decodes and verifies the chunk at `location` inside an already fetched pack (or record).
    public static func decodeChunk(in pack: Data, at location: ChunkLocation, hash: ChunkHash)
        throws(StoreError) -> Data
    {
        let payload = try PackFormat.payload(in: pack, at: location, hash: hash)
        let raw = try ChunkCompression.decode(payload, codec: location.codec, rawLength: Int(location.rawLength))
        guard ChunkHash.of(raw) == hash else {
            throw StoreError(.corrupt, "chunk \(hash) in pack \(location.packId) does not match its hash; the store is damaged (`snaplab store verify` lists what it breaks)")
        }
        return raw
    }

    /// One read covering the records of `locations` (all in one pack): cheaper than a read per chunk when they
    /// lie close together, and smaller than the whole pack.
    public func fetchSpan(_ locations: [ChunkLocation]) async throws(StoreError) -> PackSpan {
        guard let first = locations.min(by: { $0.offset < $1.offset }),
              let last = locations.max(by: { $0.offset < $1.offset })
        else { return PackSpan(data: Data(), start: 0) }
        let start = UInt64(first.offset) - UInt64(PackFormat.recordHeaderSize)
        let end = UInt64(last.offset) + UInt64(last.length)
        let data = try await backend.get(StoreLayout.pack(first.packId), offset: start, length: Int(end - start))
        return PackSpan(data: data, start: start)
    }

    public func readPack(_ packId: String) async throws(StoreError) -> Data {
        try await backend.get(StoreLayout.pack(packId))
    }

    public func makeWriter(uploadsInFlight: Int = 2) -> PackWriter {
        PackWriter(store: self, uploadsInFlight: uploadsInFlight)
    }

    static func checkId(_ id: String) throws(StoreError) {
        guard StoreLayout.isSafeComponent(id) else {
            throw StoreError(.notFound, "'\(id)' is not a valid snapshot id")
        }
    }

    static func newPackId() -> String {
        (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max)) }.joined()
    }
}

/// Dates in store objects: ISO 8601 UTC with milliseconds (whole-second ISO 8601 is read too).
enum StoreDates {
    static func round(_ date: Date) -> Date {
        Date(timeIntervalSince1970: (date.timeIntervalSince1970 * 1000).rounded() / 1000)
    }

    static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let seconds = Date(timeIntervalSince1970: TimeInterval(milliseconds.quotientAndRemainder(dividingBy: 1000).quotient))
        let whole = ISO8601DateFormatter().string(from: seconds)
        return whole.dropLast() + String(format: ".%03dZ", Int(milliseconds.quotientAndRemainder(dividingBy: 1000).remainder))
    }

    static func parse(_ text: String) -> Date? {
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
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an ISO 8601 date")
            }
            return date
        }
        return decoder
    }
}

extension SnapshotStore {
    /// Runs `body` holding the store lock (shared for writers and verify, exclusive for garbage collection),
    /// releasing it however `body` ends.
    public func withStoreLock<T: Sendable>(exclusive: Bool, timeout: Duration,
                                           _ body: () async throws(StoreError) -> T) async throws(StoreError) -> T {
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

/// A contiguous piece of a pack, holding several chunk records.
public struct PackSpan: Sendable {
    public let data: Data
    /// Where `data` starts inside the pack.
    public let start: UInt64

    /// Decodes and verifies the chunk at `location` (which must lie inside the span).
    public func decode(_ location: ChunkLocation, hash: ChunkHash) throws(StoreError) -> Data {
        var relative = location
        relative.offset = UInt32(UInt64(location.offset) - start)
        return try SnapshotStore.decodeChunk(in: data, at: relative, hash: hash)
    }
}
