import Foundation
import Logging
import SnapshotStore
import Synchronization

/// The snapshot store as the controller uses it: the one the catalog names, opened once, its local index kept in
/// the state directory. Every `StoreError` becomes a `SnaplabError` here, once.
public final class StoreService: Sendable {
    let logger = Logger(label: "snaplab.store")
    static let setting = "store"
    /// Image definitions, kept next to the snapshots so a rebuilt catalog (or another host) finds them.
    static let imageDocumentKind = "images"

    let catalog: Catalog
    let paths: LabPaths
    private let opened = Mutex<SnapshotStore?>(nil)

    init(catalog: Catalog, paths: LabPaths) {
        self.catalog = catalog
        self.paths = paths
    }

    /// The snapshot store's URL: the one recorded in the catalog, else `dir://STATE_DIR/store`.
    public func url() async throws(SnaplabError) -> String {
        if let configured = try await catalog.setting(Self.setting) { return configured }
        return "dir://\(paths.stateDirectory.appendingPathComponent("store").path)"
    }

    /// Where an encrypted store's key file is, when `host init --encrypt --key-file` named one.
    static let keyFileSetting = "store-key-file"

    /// What unlocks an encrypted store: `SNAPLAB_STORE_KEY_FILE`, `SNAPLAB_STORE_PASSPHRASE`, else the key
    /// file `host init` recorded.
    func keySource() async throws(SnaplabError) -> StoreKeySource? {
        if let source = StoreKeySource.fromEnvironment() { return source }
        guard let path = try await catalog.setting(Self.keyFileSetting), !path.isEmpty else { return nil }
        return .keyFile(URL(fileURLWithPath: path))
    }

    /// Makes the lab's store an encrypted one (it must not exist yet, or be empty), its first key `source`.
    /// A key file's path is recorded so the lab's processes open it unattended.
    public func encrypt(with source: StoreKeySource) async throws(SnaplabError) {
        let url = try await self.url()
        let store = try await withStore { () async throws(StoreError) in
            try await SnapshotStore.open(try SnapshotStore.backend(for: url), encrypt: source)
        }
        guard store.isEncrypted else {
            throw SnaplabError(.invalidState, "\(url) is a plain store already; an encrypted one must start empty")
        }
        if case .keyFile(let file) = source { try await catalog.setSetting(Self.keyFileSetting, file.path) }
        opened.withLock { $0 = nil }
    }

    public func wrappedKeys() async throws(SnaplabError) -> [WrappedStoreKey] {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.wrappedKeys() }
    }

    public func addKey(_ source: StoreKeySource, note: String?) async throws(SnaplabError) -> WrappedStoreKey {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.addKey(source, note: note) }
    }

    public func removeKey(_ id: String) async throws(SnaplabError) {
        let store = try await open()
        try await withStore { () async throws(StoreError) in try await store.removeKey(id) }
    }

    /// Records where snapshots go (before the first snapshot; moving a store is `store copy`'s job).
    public func setURL(_ url: String) async throws(SnaplabError) {
        _ = try withStoreSync { () throws(StoreError) in try SnapshotStore.backend(for: url) }
        let current = try await self.url()
        if current != url, try await catalog.snapshotCount() > 0 {
            throw SnaplabError(.invalidState, "the lab already has snapshots in \(current); it cannot switch stores")
        }
        try await catalog.setSetting(Self.setting, url)
        opened.withLock { $0 = nil }
    }

    /// The opened store (cached; its chunk index is brought up to date by every session).
    public func open() async throws(SnaplabError) -> SnapshotStore {
        if let store = opened.withLock({ $0 }) { return store }
        let store = try await open(url: try await url())
        opened.withLock { $0 = store }
        return store
    }

    /// Opens the store at `url`, its local chunk index kept under STATE_DIR/cache (one directory per store):
    /// with the lab's key, or the given one (and made encrypted with it when `encrypt` and still empty).
    func open(url: String, key given: StoreKeySource?? = nil, encrypt: Bool = false) async throws(SnaplabError)
        -> SnapshotStore
    {
        let cache = paths.stateDirectory.appendingPathComponent("cache/stores")
            .appendingPathComponent(String(ChunkHash.of(Data(url.utf8)).hex.prefix(16)))
        let key: StoreKeySource?
        if let given { key = given } else { key = try await keySource() }
        return try await withStore { () async throws(StoreError) in
            try await SnapshotStore.open(
                try SnapshotStore.backend(for: url), cacheDirectory: cache, key: encrypt ? nil : key,
                encrypt: encrypt ? key : nil)
        }
    }

    /// A session on the store (its shared lock, a fresh index), for a copy whose end another task sees.
    func session() async throws(SnaplabError) -> StoreSession {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.openSession() }
    }

    /// Runs `body` in a store session, so garbage collection cannot move or remove packs under it.
    func withSession<T: Sendable>(_ body: (StoreSession) async throws(SnaplabError) -> T) async throws(SnaplabError)
        -> T
    {
        let session = try await session()
        do throws(SnaplabError) {
            let result = try await body(session)
            await session.release()
            return result
        } catch {
            await session.release()
            throw error
        }
    }

    func manifest(_ id: String) async throws(SnaplabError) -> Manifest {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.manifest(id) }
    }

    func hasManifest(_ id: String) async throws(SnaplabError) -> Bool {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.hasManifest(id) }
    }

    func deleteSnapshot(_ id: String) async throws(SnaplabError) {
        let store = try await open()
        try await withStore { () async throws(StoreError) in try await store.deleteSnapshot(id) }
    }

    func changedChunks(_ first: Manifest, _ second: Manifest) async throws(SnaplabError) -> [Range<UInt32>] {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.changedChunks(first, second) }
    }

    func putArtifact(_ data: Data) async throws(SnaplabError) -> String {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.putArtifact(data) }
    }

    func artifact(_ digest: String) async throws(SnaplabError) -> Data {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.artifact(digest) }
    }

    /// Documents that describe snapshots beside their manifests (locks, recycle bin entries), so that
    /// `catalog rebuild` finds them again.
    static let lockDocumentKind = "snapshot-locks"
    static let recycleBinDocumentKind = "recycle-bin"

    /// Object-lock retention on a snapshot's objects (nil: the store cannot hold objects).
    func retain(_ id: String, until: Date, compliance: Bool) async throws(SnaplabError) -> Int? {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in
            try await store.retain(id, until: until, compliance: compliance)
        }
    }

    /// Lets go of a snapshot's governance retention, keeping what other locks need (nil: no object lock).
    func release(_ id: String, keepingFor others: [String: Date]) async throws(SnaplabError) -> Int? {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in
            try await store.release(id, keepingFor: others)
        }
    }

    func putDocument(kind: String, id: String, _ data: Data) async throws(SnaplabError) {
        let store = try await open()
        try await withStore { () async throws(StoreError) in try await store.putDocument(kind: kind, id: id, data) }
    }

    func deleteDocument(kind: String, id: String) async throws(SnaplabError) {
        let store = try await open()
        try await withStore { () async throws(StoreError) in try await store.deleteDocument(kind: kind, id: id) }
    }

    func documents(kind: String) async throws(SnaplabError) -> [(id: String, data: Data)] {
        let store = try await open()
        return try await withStore { () async throws(StoreError) -> [(id: String, data: Data)] in
            var documents: [(id: String, data: Data)] = []
            for id in try await store.documentIds(kind: kind) {
                documents.append((id, try await store.document(kind: kind, id: id)))
            }
            return documents
        }
    }

    func putImageDocument(_ id: String, _ data: Data) async throws(SnaplabError) {
        let store = try await open()
        try await withStore { () async throws(StoreError) in
            try await store.putDocument(kind: Self.imageDocumentKind, id: id, data)
        }
    }

    func deleteImageDocument(_ id: String) async throws(SnaplabError) {
        let store = try await open()
        try await withStore { () async throws(StoreError) in
            try await store.deleteDocument(kind: Self.imageDocumentKind, id: id)
        }
    }

    public func verify(sample: Double = 1.0, progress: (@Sendable (Double) -> Void)? = nil)
        async throws(SnaplabError) -> VerifyReport
    {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in
            try await store.verify(sample: sample, progress: progress)
        }
    }

    public func collectGarbage(options: GarbageOptions = GarbageOptions(), timeout: Duration = .seconds(600))
        async throws(SnaplabError) -> GarbageReport
    {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in
            try await store.collectGarbage(options: options, timeout: timeout)
        }
    }

    /// Rebuilds the store's index objects from its packs (those no index describes, or all of them).
    public func repair(full: Bool = false, timeout: Duration = .seconds(600)) async throws(SnaplabError)
        -> RepairReport
    {
        let store = try await open()
        return try await withStore { () async throws(StoreError) in try await store.repair(full: full, timeout: timeout)
        }
    }

    /// Recreates catalog rows for every completed snapshot and registered image the store holds (the store
    /// describes itself).
    public func rebuildCatalog() async throws(SnaplabError) -> (added: Int, kept: Int) {
        let store = try await open()
        var added = 0
        var kept = 0
        for id in try await withStore({ () async throws(StoreError) in try await store.snapshotIds() }) {
            if try await catalog.recycledSnapshot(id) != nil {
                kept += 1
                continue
            }
            if let existing = try await catalog.findSnapshot(id), existing.state == .completed {
                kept += 1
                continue
            }
            try await catalog.upsert(Snapshot(manifest: try await manifest(id)))
            added += 1
        }
        let known = Set(try await catalog.images().map(\.id))
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        for id in try await withStore({ () async throws(StoreError) in
            try await store.documentIds(kind: Self.imageDocumentKind)
        }) {
            if known.contains(id) {
                kept += 1
                continue
            }
            let data = try await withStore { () async throws(StoreError) in
                try await store.document(kind: Self.imageDocumentKind, id: id)
            }
            guard let image = try? decoder.decode(MachineImage.self, from: data) else {
                throw SnaplabError(.store, "image document \(id) in the store does not parse")
            }
            try await catalog.insert(image)
            added += 1
        }
        try await rebuildProtection()
        return (added, kept)
    }

    /// Puts back the locks and recycle bin entries the store remembers beside the manifests.
    private func rebuildProtection() async throws(SnaplabError) {
        for (id, data) in try await documents(kind: Self.lockDocumentKind) {
            guard let lock = try? RecycleBinTables.decoder.decode(SnapshotLock.self, from: data) else {
                throw SnaplabError(.store, "lock document \(id) in the store does not parse")
            }
            guard try await catalog.findSnapshot(id) != nil else { continue }
            _ = try await catalog.changeLock(id) { _ in lock }
        }
        for (id, data) in try await documents(kind: Self.recycleBinDocumentKind) {
            guard var entry = try? RecycleBinTables.decoder.decode(RecycledSnapshot.self, from: data) else {
                throw SnaplabError(.store, "recycle bin document \(id) in the store does not parse")
            }
            if let current = try await catalog.findSnapshot(id) {
                entry.snapshot.lock = current.lock
                try await catalog.putInRecycleBin(entry)
            }
        }
    }

    /// Copies snapshots (all completed ones, or the listed ones), their image definitions and boot artifacts
    /// into another store (`dir://…` or `s3://…`).
    /// `destinationKey` opens an encrypted destination (nil: a plain one); with `encrypt`, a new destination is
    /// made encrypted with it. Records move verbatim between plain stores and are re-encoded otherwise.
    public func copy(
        to url: String, snapshotIds: [String]? = nil, destinationKey: StoreKeySource? = nil, encrypt: Bool = false,
        progress: (@Sendable (String) -> Void)? = nil
    ) async throws(SnaplabError) -> CopyReport {
        guard !encrypt || destinationKey != nil else {
            throw SnaplabError(
                .invalidArgument, "an encrypted destination needs its key: --key-file or SNAPLAB_STORE_PASSPHRASE")
        }
        let source = try await open()
        let destination = try await open(url: url, key: .some(destinationKey), encrypt: encrypt)
        var ids = snapshotIds
        if ids == nil { ids = try await catalog.snapshots(matching: SnapshotQuery(states: [.completed])).map(\.id) }
        let chosen = ids
        return try await withStore { () async throws(StoreError) in
            try await source.copy(chosen, to: destination, progress: progress)
        }
    }
}

func withStoreSync<T>(_ body: () throws(StoreError) -> T) throws(SnaplabError) -> T {
    do {
        return try body()
    } catch {
        throw SnaplabError(store: error)
    }
}

extension Snapshot {
    static let bootAttribute = "boot"
    static let instanceAttribute = "instance"
    static let consistencyNoteAttribute = "consistencyNote"

    /// The catalog row of a completed snapshot, from its manifest alone.
    init(manifest: Manifest) {
        let boot = manifest.attributes[Self.bootAttribute].flatMap {
            try? JSONDecoder().decode(BootSettings.self, from: Data($0.utf8))
        }
        self.init(
            id: manifest.snapshotId, volumeId: manifest.volumeId,
            volumeRole: VolumeRole(rawValue: manifest.volumeRole) ?? .data, volumeSize: manifest.volumeSize,
            state: .completed, progress: 100, parentId: manifest.parentId,
            incremental: manifest.bytesRead < manifest.allocatedBytes, setId: manifest.setId,
            consistency: ConsistencyLevel(rawValue: manifest.consistency),
            consistencyNote: manifest.attributes[Self.consistencyNoteAttribute],
            instanceId: manifest.attributes[Self.instanceAttribute], createdAt: manifest.createdAt,
            completedAt: manifest.completedAt, bytesRead: manifest.bytesRead,
            bytesChanged: manifest.bytesChanged, bytesStored: manifest.bytesStored,
            allocatedBytes: manifest.allocatedBytes, description: manifest.description, tags: manifest.tags,
            boot: boot)
    }
}
