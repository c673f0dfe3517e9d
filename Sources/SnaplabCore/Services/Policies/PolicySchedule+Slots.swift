import Foundation

extension PolicySchedule {
    func validate() throws(SnaplabError) {
        guard (intervalSeconds == nil) != (cron == nil) else {
            throw SnaplabError(.invalidArgument, "a schedule is an interval or a cron expression, not both or neither")
        }
        if let intervalSeconds, intervalSeconds < 1 {
            throw SnaplabError(.invalidArgument, "the interval must be at least one second")
        }
        _ = try zone()
        if let cron { _ = try CronExpression(cron) }
    }

    func zone() throws(SnaplabError) -> TimeZone {
        guard let zone = TimeZone(identifier: timeZone) else {
            throw SnaplabError(
                .invalidArgument, "unknown time zone '\(timeZone)'; use an IANA name such as Europe/Paris or UTC")
        }
        return zone
    }

    /// The latest slot at or before `now` (nil before the first one).
    func latestSlot(atOrBefore now: Date, anchor: Date) throws(SnaplabError) -> Date? {
        if let intervalSeconds {
            guard now >= anchor else { return nil }
            let elapsed = now.timeIntervalSince(anchor)
            let slots = (elapsed / Double(intervalSeconds)).rounded(.down)
            return anchor.addingTimeInterval(slots * Double(intervalSeconds))
        }
        guard let cron else { return nil }
        guard let slot = try CronExpression(cron).previous(atOrBefore: now, in: try zone()), slot >= anchor else {
            return nil
        }
        return slot
    }

    /// The next slot after `now` for an interval schedule (nil for cron: the daemon finds those by looking back
    /// from each minute).
    public func nextSlot(after now: Date, anchor: Date) -> Date? {
        guard let intervalSeconds else { return nil }
        guard now >= anchor else { return anchor }
        let slots = (now.timeIntervalSince(anchor) / Double(intervalSeconds)).rounded(.down) + 1
        return anchor.addingTimeInterval(slots * Double(intervalSeconds))
    }

    public var summary: String {
        if let intervalSeconds { return "every \(intervalSeconds) s" }
        return "cron '\(cron ?? "")' \(timeZone)"
    }
}
