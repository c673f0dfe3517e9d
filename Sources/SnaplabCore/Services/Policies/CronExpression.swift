import Foundation

/// A five-field cron expression (`minute hour day-of-month month day-of-week`) evaluated in a time zone.
/// Fields take `*`, numbers, ranges `a-b`, lists `a,b` and steps `*/n`, `a-b/n`; day-of-week 0–7 (0 and 7 are
/// Sunday). As in cron, when both day fields are restricted a day matching either one matches.
public struct CronExpression: Sendable, Equatable {
    public let text: String
    let minutes: Set<Int>
    let hours: Set<Int>
    let daysOfMonth: Set<Int>
    let months: Set<Int>
    let daysOfWeek: Set<Int>
    let dayOfMonthRestricted: Bool
    let dayOfWeekRestricted: Bool

    public init(_ text: String) throws(SnaplabError) {
        let fields = text.split(whereSeparator: \.isWhitespace).map(String.init)
        guard fields.count == 5 else {
            throw SnaplabError(
                .invalidArgument,
                "cron expression '\(text)' needs 5 fields (minute hour day-of-month month day-of-week), not \(fields.count)"
            )
        }
        self.text = text
        minutes = try Self.field(fields[0], name: "minute", range: 0...59, text: text)
        hours = try Self.field(fields[1], name: "hour", range: 0...23, text: text)
        daysOfMonth = try Self.field(fields[2], name: "day of month", range: 1...31, text: text)
        months = try Self.field(fields[3], name: "month", range: 1...12, text: text)
        daysOfWeek = Set(try Self.field(fields[4], name: "day of week", range: 0...7, text: text).map { $0 % 7 })
        dayOfMonthRestricted = fields[2] != "*"
        dayOfWeekRestricted = fields[4] != "*"
    }

    private static func field(_ field: String, name: String, range: ClosedRange<Int>, text: String)
        throws(SnaplabError) -> Set<Int>
    {
        var values = Set<Int>()
        for part in field.split(separator: ",", omittingEmptySubsequences: false) {
            let pieces = part.split(separator: "/", omittingEmptySubsequences: false)
            guard pieces.count <= 2 else { throw bad(name, field, text) }
            var step = 1
            if pieces.count == 2 {
                guard let parsed = Int(pieces[1]), parsed > 0 else { throw bad(name, field, text) }
                step = parsed
            }
            let span: ClosedRange<Int>
            if pieces[0] == "*" {
                span = range
            } else {
                let bounds = pieces[0].split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
                guard bounds.count <= 2, let low = bounds.first ?? nil,
                    let high = (bounds.count == 2 ? bounds[1] : low),
                    range.contains(low), range.contains(high), low <= high
                else { throw bad(name, field, text) }
                span = low...(pieces.count == 2 && bounds.count == 1 ? range.upperBound : high)
            }
            values.formUnion(stride(from: span.lowerBound, through: span.upperBound, by: step))
        }
        guard !values.isEmpty else { throw bad(name, field, text) }
        return values
    }

    private static func bad(_ name: String, _ field: String, _ text: String) -> SnaplabError {
        SnaplabError(.invalidArgument, "cron expression '\(text)': '\(field)' is not a valid \(name) field")
    }

    func dayMatches(_ components: DateComponents) -> Bool {
        guard let day = components.day, let month = components.month, let weekday = components.weekday,
            months.contains(month)
        else { return false }
        let dayOfMonth = daysOfMonth.contains(day)
        let dayOfWeek = daysOfWeek.contains(weekday - 1)
        if dayOfMonthRestricted && dayOfWeekRestricted { return dayOfMonth || dayOfWeek }
        return dayOfMonth && dayOfWeek
    }

    /// The latest matching minute at or before `date` (within the last 400 days).
    public func previous(atOrBefore date: Date, in timeZone: TimeZone) -> Date? {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        var minute = Date(timeIntervalSince1970: (date.timeIntervalSince1970 / 60).rounded(.down) * 60)
        let limit = date.addingTimeInterval(-400 * 86_400)
        while minute > limit {
            let components = calendar.dateComponents([.minute, .hour, .day, .month, .weekday], from: minute)
            if !dayMatches(components) {
                // Skip to the last minute of the previous day.
                minute = calendar.startOfDay(for: minute).addingTimeInterval(-60)
            } else if !hours.contains(components.hour ?? -1) {
                // Skip to the last minute of the previous hour.
                minute = minute.addingTimeInterval(-Double((components.minute ?? 0) + 1) * 60)
            } else if minutes.contains(components.minute ?? -1) {
                return minute
            } else {
                minute = minute.addingTimeInterval(-60)
            }
        }
        return nil
    }
}
