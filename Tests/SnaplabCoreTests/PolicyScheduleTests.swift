import Foundation
import Testing

@testable import SnaplabCore

@Suite struct PolicyScheduleTests {
    static func date(_ text: String) -> Date {
        ISO8601DateFormatter().date(from: text) ?? Date(timeIntervalSince1970: 0)
    }

    @Test(arguments: [
        "61 * * * *", "* * * *", "*/0 * * * *", "a b c d e", "* 24 * * *", "5-1 * * * *", "* * 0 * *",
        "* * * 13 *", "1,,2 * * * *",
    ])
    func malformedCronIsRefusedClearly(_ text: String) {
        #expect {
            _ = try CronExpression(text)
        } throws: { error in
            guard let error = error as? SnaplabError else { return false }
            return error.code == .invalidArgument && error.message.contains("cron expression")
        }
    }

    @Test func cronFindsTheLatestMatchingMinute() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let hourly = try CronExpression("0 * * * *")
        #expect(
            hourly.previous(atOrBefore: Self.date("2026-03-01T10:59:30Z"), in: utc) == Self.date("2026-03-01T10:00:00Z")
        )
        let quarter = try CronExpression("*/15 9-17 * * 1-5")
        // Saturday 2026-03-07 → the Friday before at 17:45.
        #expect(
            quarter.previous(atOrBefore: Self.date("2026-03-07T12:00:00Z"), in: utc)
                == Self.date("2026-03-06T17:45:00Z"))
        let monthly = try CronExpression("30 2 1 * *")
        #expect(
            monthly.previous(atOrBefore: Self.date("2026-03-15T00:00:00Z"), in: utc)
                == Self.date("2026-03-01T02:30:00Z"))
        // 02:00 in Paris is 01:00 UTC in winter.
        let paris = try #require(TimeZone(identifier: "Europe/Paris"))
        let nightly = try CronExpression("0 2 * * *")
        #expect(
            nightly.previous(atOrBefore: Self.date("2026-01-10T12:00:00Z"), in: paris)
                == Self.date("2026-01-10T01:00:00Z"))
    }

    @Test func intervalSlotsCountFromTheAnchor() throws {
        let schedule = PolicySchedule(intervalSeconds: 3600)
        let anchor = Self.date("2026-03-01T10:20:00Z")
        #expect(try schedule.latestSlot(atOrBefore: Self.date("2026-03-01T10:19:59Z"), anchor: anchor) == nil)
        #expect(try schedule.latestSlot(atOrBefore: anchor, anchor: anchor) == anchor)
        #expect(
            try schedule.latestSlot(atOrBefore: Self.date("2026-03-01T13:00:00Z"), anchor: anchor)
                == Self.date("2026-03-01T12:20:00Z"))
    }

    @Test func retentionThatKeepsNothingIsRefused() {
        #expect { try Retention().validate() } throws: { error in
            (error as? SnaplabError)?.message.contains("keeps nothing") == true
        }
        #expect { try Retention(keepLast: -1, keepDaily: 2).validate() } throws: {
            ($0 as? SnaplabError)?.code == .invalidArgument
        }
    }

    @Test func retentionKeepsByRuleAndPin() throws {
        let utc = try #require(TimeZone(identifier: "UTC"))
        let start = Self.date("2026-03-01T00:00:00Z")
        let candidates = (0..<48).map {
            RetentionPlan.Candidate(
                id: "s\($0)", time: start.addingTimeInterval(Double($0) * 3600),
                pinned: $0 == 3)
        }
        let now = start.addingTimeInterval(47 * 3600)
        let last = RetentionPlan.keep(candidates, retention: Retention(keepLast: 5), now: now, timeZone: utc)
        #expect(last == Set((43...47).map { "s\($0)" } + ["s3"]))
        let daily = RetentionPlan.keep(candidates, retention: Retention(keepDaily: 7), now: now, timeZone: utc)
        #expect(daily == ["s23", "s47", "s3"])
        let within = RetentionPlan.keep(candidates, retention: Retention(keepWithin: 2 * 3600), now: now, timeZone: utc)
        #expect(within == ["s46", "s47", "s3"])
    }
}
