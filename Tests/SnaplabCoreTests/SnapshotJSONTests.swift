import Foundation
import SnaplabTestSupport
import Testing

@testable import SnaplabCore

/// The hand-written snapshot JSON is the object `JSONEncoder` makes, field for field.
@Suite struct SnapshotJSONTests {
    static func randomText(_ generator: inout SeededGenerator) -> String {
        let pieces = ["a", "Z", "0", " ", "\"", "\\", "/", "\n", "\t", "\u{1}", "\u{1f}", "é", "✓", "🙂", "<&>"]
        return (0..<Int.random(in: 0...12, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }
            .joined()
    }

    static func randomSnapshot(_ generator: inout SeededGenerator) -> Snapshot {
        func maybe<T>(_ value: T) -> T? { Bool.random(using: &generator) ? value : nil }
        let created = Date(timeIntervalSince1970: Double.random(in: 0...4_000_000_000, using: &generator))
        var snapshot = Snapshot(
            id: "snap-\(UInt64.random(in: 0...UInt64.max, using: &generator))", volumeId: randomText(&generator),
            volumeRole: VolumeRole.allCases.randomElement(using: &generator)!,
            volumeSize: UInt64.random(in: 0...UInt64.max, using: &generator),
            state: [SnapshotState.pending, .completed, .error].randomElement(using: &generator)!,
            progress: Bool.random(using: &generator)
                ? Double(Int.random(in: 0...100, using: &generator))
                : Double.random(in: 0...100, using: &generator),
            parentId: maybe(randomText(&generator)), incremental: Bool.random(using: &generator),
            setId: maybe(randomText(&generator)), consistency: maybe(.fsFrozen),
            consistencyNote: maybe(randomText(&generator)), instanceId: maybe(randomText(&generator)),
            createdAt: created, completedAt: maybe(created.addingTimeInterval(12.345)),
            bytesRead: UInt64.random(in: 0...1 << 50, using: &generator), bytesChanged: 7, bytesStored: 0,
            allocatedBytes: UInt64.random(in: 0...1 << 40, using: &generator),
            errorMessage: maybe(randomText(&generator)),
            description: maybe(randomText(&generator)),
            tags: Dictionary(
                uniqueKeysWithValues: (0..<Int.random(in: 0...4, using: &generator)).map { number in
                    ("k\(number)\(randomText(&generator))", randomText(&generator))
                }),
            boot: maybe(BootSettings(kernel: randomText(&generator), initrd: "i", cmdline: randomText(&generator))),
            checkpoint: maybe(randomText(&generator)), workerPid: maybe(Int32.random(in: 1...99999, using: &generator)),
            workerStartTime: maybe(UInt64.random(in: 0...1 << 60, using: &generator)))
        snapshot.pinned = Bool.random(using: &generator)
        let lockedAt = Date(
            timeIntervalSince1970: Double(Int.random(in: 1_700_000_000...1_900_000_000, using: &generator)))
        snapshot.lock = maybe(
            SnapshotLock(
                mode: Bool.random(using: &generator) ? .governance : .compliance, lockedAt: lockedAt,
                expiresAt: lockedAt.addingTimeInterval(86_400),
                coolOffEndsAt: maybe(lockedAt.addingTimeInterval(3600))))
        return snapshot
    }

    @Test func handWrittenJSONIsWhatJSONEncoderWrites() throws {
        var generator = SeededGenerator(seed: 15)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        let snapshots = (0..<500).map { _ in Self.randomSnapshot(&generator) }
        for snapshot in snapshots {
            var writer = JSONWriter()
            snapshot.writeJSON(into: &writer)
            let ours = try JSONSerialization.jsonObject(with: Data(writer.bytes)) as? NSDictionary
            let theirs = try JSONSerialization.jsonObject(with: try encoder.encode(snapshot)) as? NSDictionary
            #expect(ours != nil && ours == theirs, "\(String(decoding: writer.bytes, as: UTF8.self))")
        }
        let array = try JSONSerialization.jsonObject(with: Data(Snapshot.jsonArray(snapshots))) as? NSArray
        let expected = try JSONSerialization.jsonObject(with: try encoder.encode(snapshots)) as? NSArray
        #expect(array != nil && array == expected)
        #expect(try JSONSerialization.jsonObject(with: Data(Snapshot.jsonArray([]))) as? NSArray == [])
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        let decoded = try decoder.decode([Snapshot].self, from: Data(Snapshot.jsonArray(snapshots)))
        #expect(decoded.map(\.id) == snapshots.map(\.id), "it decodes as snapshots")
    }
}
