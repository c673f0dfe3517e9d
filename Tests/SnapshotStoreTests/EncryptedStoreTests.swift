import Foundation
import SnaplabTestSupport
import Testing

@testable import SnapshotStore

/// Encrypted stores on both backends: what comes back, what the stored objects give away (nothing of a pattern
/// written into the chunks, none of their SHA-256s), dedup as in a plain store, and the errors of a wrong or
/// missing key and of tampered objects.
@Suite struct EncryptedStoreTests {
    static let pattern = Data("SNAPLAB-KNOWN-PLAINTEXT-PATTERN".utf8)

    /// Random (incompressible) chunks with the pattern in each: a plain store keeps them as they are.
    static func chunks() -> [UInt32: Data] {
        var chunks: [UInt32: Data] = [:]
        for index in UInt32(0)..<24 {
            var data = StoreFixture.chunk(UInt64(index % 16) + 1)  // 8 chunks repeat: dedup has work to do
            data.replaceSubrange(1000..<(1000 + pattern.count), with: pattern)
            chunks[index] = data
        }
        return chunks
    }

    static func keyFile() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("store-key-\(UUID().uuidString)")
        try StoreKeySource.generateKeyFile(at: url)
        return url
    }

    static func backend(_ kind: BackendKind, _ directory: URL) async throws -> any ObjectBackend {
        switch kind {
        case .directory: return DirectoryBackend(root: directory)
        case .s3:
            let gateway = try await CephGateway.shared.start()
            let bucket = "sealed-\(UUID().uuidString.prefix(12).lowercased())"
            return S3Backend(
                location: try S3Location.parse(
                    "s3://\(bucket)/lab?endpoint=\(gateway.endpoint)", environment: gateway.environment))
        }
    }

    /// Every object of the store, by key.
    static func objects(_ backend: any ObjectBackend) async throws -> [String: Data] {
        var objects: [String: Data] = [StoreLayout.config: try await backend.get(StoreLayout.config)]
        for prefix in ["snapshots/", "tables/", "packs/", "index/", "documents/", "artifacts/"] {
            for key in try await backend.list(prefix: prefix) { objects[key] = try await backend.get(key) }
        }
        return objects
    }

    @Test(arguments: BackendKind.allCases)
    func roundTripsAndHidesWhatItHolds(_ kind: BackendKind) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try Self.keyFile()
        defer { try? FileManager.default.removeItem(at: key) }
        let backend = try await Self.backend(kind, directory)
        let store = try await SnapshotStore.open(backend, encrypt: .keyFile(key))
        #expect(store.isEncrypted && store.config.version == 2)
        let fixture = StoreFixture(directory: directory, store: store)
        let chunks = Self.chunks()
        let (_, stored) = try await fixture.writeSnapshot("snap-sealed", chunks)
        try await store.putDocument(
            kind: "images", id: "ami-1", Data("{\"name\":\"SNAPLAB-KNOWN-PLAINTEXT-PATTERN\"}".utf8))

        // Reopened with its key file: the same bytes, the document, a clean verify.
        let reopened = try await SnapshotStore.open(backend, key: .keyFile(key))
        #expect(try await StoreFixture(directory: directory, store: reopened).readSnapshot("snap-sealed") == chunks)
        #expect(try await reopened.document(kind: "images", id: "ami-1").count > 0)
        #expect(try await reopened.verify().isClean)

        // What anyone reading the objects sees: no pattern, no SHA-256 of a chunk (bytes or hex).
        let objects = try await Self.objects(backend)
        let digests = Set(chunks.values.map { ChunkHash.of($0) })
        for (name, data) in objects {
            #expect(data.range(of: Self.pattern) == nil, "\(name) holds the plaintext pattern")
            for digest in digests {
                #expect(data.range(of: Data(digest.bytes)) == nil, "\(name) holds a chunk's SHA-256")
                #expect(!name.contains(digest.hex) && data.range(of: Data(digest.hex.utf8)) == nil)
            }
        }

        // The same data in a plain store: the same number of chunks stored (dedup works as well).
        let plainDirectory = directory.appendingPathComponent("plain")
        let plain = StoreFixture(
            directory: plainDirectory, store: try await SnapshotStore.open(DirectoryBackend(root: plainDirectory)))
        let (_, plainStored) = try await plain.writeSnapshot("snap-plain", chunks)
        #expect(reopened.index.count == plain.store.index.count && reopened.index.count == 16)
        #expect(stored == plainStored + UInt64(16 * StoreKeys.overhead), "sealing adds 28 bytes a chunk, nothing more")
        let packs = objects.keys.filter { $0.hasPrefix("packs/") }
        let plainPacks = try await plain.store.backend.list(prefix: "packs/")
        #expect(packs.count == plainPacks.count)
        // The check above can fail: in the plain store the pattern is there for anyone to read.
        let plainPack = try await plain.store.backend.get(try #require(plainPacks.first))
        #expect(plainPack.range(of: Self.pattern) != nil)
    }

    /// Plain → encrypted → plain again: every snapshot, document and artifact comes out the same.
    @Test func copiesReEncodeBetweenPlainAndEncryptedStores() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recode-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try Self.keyFile()
        defer { try? FileManager.default.removeItem(at: key) }
        let plain = StoreFixture(
            directory: directory,
            store: try await SnapshotStore.open(DirectoryBackend(root: directory.appendingPathComponent("plain"))))
        let chunks = Self.chunks()
        try await plain.writeSnapshot("snap-one", chunks)
        try await plain.writeSnapshot("snap-two", [0: StoreFixture.chunk(99), 5: StoreFixture.chunk(1)])
        try await plain.store.putDocument(kind: "images", id: "ami-1", Data("{\"name\":\"one\"}".utf8))
        let digest = try await plain.store.putArtifact(Data("a kernel".utf8))

        let sealedBackend = DirectoryBackend(root: directory.appendingPathComponent("sealed"))
        let sealed = try await SnapshotStore.open(sealedBackend, encrypt: .keyFile(key))
        let there = try await plain.store.copy(to: sealed)
        #expect(
            there.snapshotsCopied == ["snap-one", "snap-two"] && there.documentsCopied == 1
                && there.artifactsCopied == 1)
        let reopened = try await SnapshotStore.open(sealedBackend, key: .keyFile(key))
        #expect(try await StoreFixture(directory: directory, store: reopened).readSnapshot("snap-one") == chunks)
        #expect(try await reopened.verify().isClean)
        #expect(try await reopened.artifact(digest) == Data("a kernel".utf8))
        let packs = try await sealedBackend.list(prefix: "packs/")
        for pack in packs { #expect(try await sealedBackend.get(pack).range(of: Self.pattern) == nil) }

        let back = StoreFixture(
            directory: directory,
            store: try await SnapshotStore.open(DirectoryBackend(root: directory.appendingPathComponent("back"))))
        let again = try await reopened.copy(to: back.store)
        #expect(again.snapshotsCopied.count == 2)
        #expect(try await back.readSnapshot("snap-one") == chunks)
        #expect(try await back.readSnapshot("snap-two") == (try await plain.readSnapshot("snap-two")))
        #expect(try await back.store.document(kind: "images", id: "ami-1") == Data("{\"name\":\"one\"}".utf8))
        #expect(try await back.store.manifest("snap-one").table == (try await plain.store.manifest("snap-one").table))
    }

    @Test func aWrongOrMissingKeyAndTamperedObjectsAreClearErrors() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sealed-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let key = try Self.keyFile()
        let other = try Self.keyFile()
        defer {
            try? FileManager.default.removeItem(at: key)
            try? FileManager.default.removeItem(at: other)
        }
        let backend = DirectoryBackend(root: directory)
        let store = try await SnapshotStore.open(backend, encrypt: .keyFile(key))
        try await StoreFixture(directory: directory, store: store).writeSnapshot(
            "snap-sealed", [0: StoreFixture.chunk(7), 1: StoreFixture.chunk(8)])

        func openError(_ source: StoreKeySource?) async -> StoreError? {
            do {
                _ = try await SnapshotStore.open(backend, key: source)
                return nil
            } catch {
                return error
            }
        }
        let missing = await openError(nil)
        #expect(missing?.kind == .keyRequired && missing?.message.contains("SNAPLAB_STORE_KEY_FILE") == true)
        let wrong = await openError(.keyFile(other))
        #expect(
            wrong?.kind == .keyRequired && wrong?.message.contains("wrong key") == true, "\(String(describing: wrong))")
        let gone = await openError(.keyFile(directory.appendingPathComponent("no-such-key")))
        #expect(gone?.kind == .keyRequired && gone?.message.contains("cannot be read") == true)
        chmod(other.path, 0o644)
        let loose = await openError(.keyFile(other))
        #expect(loose?.message.contains("readable by others") == true)

        // A second key (a passphrase) opens it too; the first cannot be removed while it is the only one.
        let added = try await store.addKey(.passphrase("correct horse battery staple"), note: "ops")
        #expect(await openError(.passphrase("correct horse battery staple")) == nil)
        #expect(await openError(.passphrase("wrong horse"))?.kind == .keyRequired)
        try await store.removeKey(added.id)
        #expect(await openError(.passphrase("correct horse battery staple"))?.kind == .keyRequired)
        await #expect(throws: StoreError.self) { try await store.removeKey(try await store.wrappedKeys()[0].id) }

        // A flipped byte in a chunk's record fails authentication, named.
        let fixture = StoreFixture(directory: directory, store: store)
        let pack = try #require(try await backend.list(prefix: "packs/").first)
        try await fixture.tamper(pack, at: PackFormat.recordHeaderSize + 20)
        let verify = try await store.verify()
        #expect(verify.brokenSnapshots.keys.contains("snap-sealed"))
        #expect(verify.badChunks.values.contains { $0.contains("fails authentication") }, "\(verify)")

        // A changed manifest, and a config whose chunk size was changed.
        let manifest = StoreLayout.manifest("snap-sealed")
        try await fixture.tamper(manifest, at: 40)
        do {
            _ = try await store.manifest("snap-sealed")
            Issue.record("a tampered manifest opened")
        } catch {
            #expect(error.message.contains(manifest) && error.message.contains("fails authentication"))
        }
        var config = try JSONDecoder.store.decode(StoreConfig.self, from: try await backend.get(StoreLayout.config))
        config.chunkSize = 128 << 10
        try await backend.put(StoreLayout.config, try JSONEncoder.store.encode(config))
        let changed = await openError(.keyFile(key))
        #expect(changed?.kind == .corrupt && changed?.message.contains("config.json fails authentication") == true)

        // Stripped of its encryption settings, the store is never taken for a plain one by whoever holds a key.
        config.encryption = nil
        config.version = 2
        try await backend.put(StoreLayout.config, try JSONEncoder.store.encode(config))
        #expect(await openError(.keyFile(key))?.kind == .corrupt)
        config.version = 1
        try await backend.put(StoreLayout.config, try JSONEncoder.store.encode(config))
        let stripped = await openError(.keyFile(key))
        #expect(stripped?.kind == .keyRequired && stripped?.message.contains("is not encrypted") == true)
        let empty = DirectoryBackend(root: directory.appendingPathComponent("empty"))
        do {
            _ = try await SnapshotStore.open(empty, key: .keyFile(key))
            Issue.record("a key made a plain store")
        } catch {
            #expect(error.kind == .keyRequired)
        }
    }
}
