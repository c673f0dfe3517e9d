import Foundation
import Testing

@testable import SnapshotStore

/// The hand-written timestamp agrees with Foundation's ISO 8601 formatter, both ways.
@Suite struct ISOTimestampTests {
    @Test func formatsAndParsesLikeFoundation() throws {
        var generator = SystemRandomNumberGenerator()
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        for _ in 0..<2000 {
            let milliseconds = Int64.random(in: -2_000_000_000_000...4_000_000_000_000, using: &generator)
            let date = Date(timeIntervalSince1970: Double(milliseconds) / 1000)
            let text = ISOTimestamp.string(date)
            #expect(text == formatter.string(from: date), "\(milliseconds)")
            let parsed = try #require(ISOTimestamp.parse(text))
            #expect(StoreDates.round(parsed) == StoreDates.round(date), "\(text)")
        }
        #expect(ISOTimestamp.parse("2026-12-03T09:30:30Z") == formatter.date(from: "2026-12-03T09:30:30.000Z"))
        for bad in [
            "", "2026-12-03", "2026-12-03T09:30:30", "2026-13-03T09:30:30Z", "2026-12-03T09:30:3xZ",
            "2026-12-03T09:30:30.Z", "2026-12-03T09:30:30+01:00", "２０２６-12-03T09:30:30Z",
        ] {
            #expect(ISOTimestamp.parse(bad) == nil, "\(bad)")
        }
    }
}
