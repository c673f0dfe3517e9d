import Foundation
import GRDB
import SnaplabTestSupport
import Testing

@testable import SnaplabCore

/// Snapshots read back by the hand-written row decoder are what was written, tags with escapes included.
@Suite struct SnapshotRowTests {
    @Test func whatIsWrittenIsReadBack() async throws {
        let catalog = try Catalog.inMemory()
        var generator = SeededGenerator(seed: 1515)
        var written: [Snapshot] = []
        for number in 0..<300 {
            var snapshot = SnapshotJSONTests.randomSnapshot(&generator)
            snapshot.id = String(format: "snap-%017x", number)
            // SQLite integers are signed 64-bit.
            snapshot.volumeSize &= UInt64(Int64.max)
            snapshot.bytesRead &= UInt64(Int64.max)
            snapshot.allocatedBytes &= UInt64(Int64.max)
            snapshot.workerStartTime = snapshot.workerStartTime.map { $0 & UInt64(Int64.max) }
            try await catalog.insert(snapshot)
            written.append(snapshot)
        }
        let read = try await catalog.snapshots(matching: SnapshotQuery())
        #expect(read.count == written.count)
        let byId = Dictionary(uniqueKeysWithValues: read.map { ($0.id, $0) })
        for snapshot in written {
            var back = try #require(byId[snapshot.id])
            // The catalog keeps times to the millisecond.
            #expect(abs(back.createdAt.timeIntervalSince(snapshot.createdAt)) < 0.001)
            #expect(
                abs((back.completedAt ?? .distantPast).timeIntervalSince(snapshot.completedAt ?? .distantPast)) < 0.001)
            back.createdAt = snapshot.createdAt
            back.completedAt = snapshot.completedAt
            #expect(back == snapshot)
        }
    }

    @Test func plainTagObjectsAreReadDirectlyAndAnythingElseByJSONDecoder() throws {
        #expect(PlainStringMap.parse(#"{}"#) == [:])
        #expect(PlainStringMap.parse(#"{"a":"b","c":"d é"}"#) == ["a": "b", "c": "d é"])
        #expect(PlainStringMap.parse(#" { "a" : "b" } "#) == ["a": "b"])
        for needsTheDecoder in [
            #"{"a":"b\"c"}"#, #"{"a":1}"#, #"{"a":"b""#, #"{"a":"b",}"#, #"{"a":"b","a":"c"}"#, "", "[]",
        ] {
            #expect(PlainStringMap.parse(needsTheDecoder) == nil, "\(needsTheDecoder)")
        }
        #expect(try Snapshot.tags(#"{"a":"b\"c\/d"}"#) == ["a": "b\"c/d"])
        #expect(throws: (any Error).self) { try Snapshot.tags(#"{"a":1}"#) }
    }
}
