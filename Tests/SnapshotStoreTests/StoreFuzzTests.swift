import Foundation
import SnaplabTestSupport
import Testing

@testable import SnapshotStore

/// Random damage to every kind of stored object — truncation, flipped bytes, overwritten stretches, extreme
/// numbers in manifests and index entries, removal — fed to open, verify, restore, repair and gc. Each must end
/// in a `StoreError` or success; a trap ends the test process, so a pass shows there was none. Data that the
/// damage did not touch must still read back exactly after `repair`.
@Suite struct StoreFuzzTests {
    static let cases = Int(ProcessInfo.processInfo.environment["SNAPLAB_FUZZ_CASES"] ?? "") ?? 400

    @Test func damagedStoresGiveErrorsNeverTraps() async throws {
        let pristine = try await StoreFixture.make()
        defer { pristine.remove() }
        let contents: [String: [UInt32: Data]] = [
            "snap-a": [0: StoreFixture.chunk(1), 3: StoreFixture.chunk(2, random: false), 9: StoreFixture.chunk(3)],
            "snap-b": [0: StoreFixture.chunk(1), 5: StoreFixture.chunk(4), 15: StoreFixture.chunk(5, size: 4096)],
        ]
        try await pristine.writeSnapshot("snap-a", contents["snap-a"]!, volumeSize: 1 << 20)
        try await pristine.writeSnapshot("snap-b", contents["snap-b"]!, volumeSize: (1 << 20) - 61440)
        let objects = try await pristine.store.backend.list(prefix: "").filter {
            !$0.hasPrefix("lock") && $0 != StoreLayout.config
        }
        try #require(objects.contains { $0.hasPrefix(StoreLayout.indexPrefix) })

        var generator = SeededGenerator(seed: 0x5EED)
        var outcomes: [String: Int] = [:]
        for number in 0..<Self.cases {
            let copy = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-\(UUID().uuidString)")
            try FileManager.default.copyItem(at: pristine.directory, to: copy)
            defer { try? FileManager.default.removeItem(at: copy) }
            let target = objects.randomElement(using: &generator)!
            let damage = try Damage.apply(to: copy.appendingPathComponent(target), using: &generator)

            let outcome = try await Self.exercise(copy, contents: contents)
            outcomes[outcome, default: 0] += 1
            if outcome.hasPrefix("not a StoreError") {
                Issue.record("case \(number), \(damage) on \(target): \(outcome)")
            }
        }
        #expect(outcomes.count > 1, "the damage made a difference: \(outcomes)")
        print("store fuzz: \(Self.cases) cases: \(outcomes.sorted { $0.key < $1.key })")
    }

    @Test func digestsWithWrongCharactersAreRefusedNotTrapped() {
        #expect(ChunkHash(hex: String(repeating: "a", count: 62) + "é") == nil)
        #expect(ChunkHash(hex: String(repeating: "g", count: 64)) == nil)
        let hash = ChunkHash.of(Data("x".utf8))
        #expect(ChunkHash(hex: hash.hex) == hash && ChunkHash(hex: hash.hex.uppercased()) == hash)
    }

    @Test func aDamagedLocalIndexFileIsRebuiltNotTrapped() async throws {
        let fixture = try await StoreFixture.make()
        defer { fixture.remove() }
        try await fixture.writeSnapshot("snap-a", [0: StoreFixture.chunk(1)], volumeSize: 1 << 20)
        let cache = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-cache-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: cache) }
        _ = try await SnapshotStore.open(fixture.store.backend, cacheDirectory: cache, recentIndexLimit: 0)
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let current = try String(contentsOf: cache.appendingPathComponent("current"), encoding: .utf8)
            let file = cache.appendingPathComponent(current)
            var bytes = [UInt8](try Data(contentsOf: file))
            // The header: counts, offsets and lengths that size every later read.
            for _ in 0..<4 {
                let position = Int.random(in: 0..<LocalIndexFile.headerSize, using: &generator)
                bytes[position] = UInt8.random(in: 0...255, using: &generator)
            }
            try Data(bytes).write(to: file)
            let reopened = try await SnapshotStore.open(
                fixture.store.backend, cacheDirectory: cache, recentIndexLimit: 0)
            #expect(reopened.index.contains(ChunkHash.of(StoreFixture.chunk(1))))
        }
    }

    /// Opens a damaged store and runs everything on it; returns how it ended.
    static func exercise(_ directory: URL, contents: [String: [UInt32: Data]]) async throws -> String {
        do {
            let store = try await SnapshotStore.open(DirectoryBackend(root: directory))
            let fixture = StoreFixture(directory: directory, store: store)
            _ = try? await store.verify()
            for id in contents.keys { _ = try? await fixture.readSnapshot(id) }
            _ = try await store.repair(full: Bool.random())
            let report = try await store.verify()
            // What verify calls sound must read back as written.
            for id in contents.keys where report.brokenSnapshots[id] == nil && report.unreadableManifests[id] == nil {
                if (try? await store.hasManifest(id)) == true {
                    let read = try await fixture.readSnapshot(id)
                    guard read == contents[id] else { return "not a StoreError: \(id) reads back different data" }
                }
            }
            _ = try await store.collectGarbage(options: GarbageOptions(acceptMissing: true))
            return report.isClean ? "clean after repair" : "damage reported"
        } catch let error as StoreError {
            return "StoreError.\(error.kind)"
        } catch {
            return "not a StoreError: \(error)"
        }
    }
}

/// One random kind of damage to one file.
enum Damage {
    static func apply(to file: URL, using generator: inout SeededGenerator) throws -> String {
        var bytes = [UInt8](try Data(contentsOf: file))
        let kind = Int.random(in: 0..<7, using: &generator)
        switch kind {
        case 0:
            let length = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
            bytes = Array(bytes.prefix(length))
        case 1:
            for _ in 0..<Int.random(in: 1...8, using: &generator) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] ^= UInt8.random(
                    in: 1...255, using: &generator)
            }
        case 2 where !bytes.isEmpty:
            let start = Int.random(in: 0..<bytes.count, using: &generator)
            let end = min(bytes.count, start + Int.random(in: 1...256, using: &generator))
            for position in start..<end { bytes[position] = UInt8.random(in: 0...255, using: &generator) }
        case 3:
            // A number in a manifest or table info, replaced by an extreme one.
            var text = String(decoding: bytes, as: UTF8.self)
            let fields = ["volumeSize", "chunkSize", "entries", "allocatedBytes", "format", "bytesStored"]
            let values = ["-1", "0", "1", "4294967296", "9223372036854775807", "18446744073709551615", "1e300"]
            let field = fields.randomElement(using: &generator)!
            let value = values.randomElement(using: &generator)!
            if let range = text.range(of: "\"\(field)\":[-0-9.e]+", options: .regularExpression) {
                text.replaceSubrange(range, with: "\"\(field)\":\(value)")
            }
            bytes = Array(text.utf8)
        case 4 where bytes.count >= PackFormat.indexHeaderSize + IndexEntry.size:
            // An index entry's offset, length or raw length set to an extreme (or the entry count).
            let entries = (bytes.count - PackFormat.indexHeaderSize) / IndexEntry.size
            let entry = PackFormat.indexHeaderSize + Int.random(in: 0..<entries, using: &generator) * IndexEntry.size
            let field = [5, entry + 48, entry + 52, entry + 56].randomElement(using: &generator)!
            let value = [0, 1, 44, 45, UInt32.max, UInt32.max / 2].randomElement(using: &generator)!
            withUnsafeBytes(of: value.littleEndian) {
                for (index, byte) in $0.enumerated() { bytes[field + index] = byte }
            }
        case 5:
            try FileManager.default.removeItem(at: file)
            return "removal"
        default:
            bytes += (0..<Int.random(in: 1...4096, using: &generator)).map { _ in
                UInt8.random(in: 0...255, using: &generator)
            }
        }
        try Data(bytes).write(to: file)
        return "damage \(kind)"
    }
}
