import Foundation

/// Which of a policy's snapshots of one volume its retention keeps. Pure: given snapshot times, now and the
/// rules, the same answer every time (tests compute theirs independently).
public enum RetentionPlan {
    public struct Candidate: Sendable, Equatable {
        public var id: String
        /// The slot the snapshot was taken for.
        public var time: Date
        public var pinned: Bool

        public init(id: String, time: Date, pinned: Bool = false) {
            self.id = id
            self.time = time
            self.pinned = pinned
        }
    }

    /// The ids to keep. Rules work like restic's and borg's: keep-last N keeps the N newest; keep-hourly N keeps
    /// the newest snapshot of each of the N newest hours that have one (daily, weekly, monthly alike);
    /// keep-within keeps everything younger; a snapshot kept by any rule (or pinned) stays.
    public static func keep(_ candidates: [Candidate], retention: Retention, now: Date, timeZone: TimeZone)
        -> Set<String>
    {
        let newestFirst = candidates.sorted { $0.time > $1.time }
        var kept = Set(newestFirst.filter(\.pinned).map(\.id))
        kept.formUnion(newestFirst.prefix(retention.keepLast).map(\.id))
        if retention.keepWithin > 0 {
            let horizon = now.addingTimeInterval(-Double(retention.keepWithin))
            kept.formUnion(newestFirst.filter { $0.time > horizon }.map(\.id))
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let periods: [(Int, Set<Calendar.Component>)] = [
            (retention.keepHourly, [.year, .month, .day, .hour]),
            (retention.keepDaily, [.year, .month, .day]),
            (retention.keepWeekly, [.yearForWeekOfYear, .weekOfYear]),
            (retention.keepMonthly, [.year, .month]),
        ]
        for (count, components) in periods where count > 0 {
            var seen: [DateComponents] = []
            for candidate in newestFirst {
                let bucket = calendar.dateComponents(components, from: candidate.time)
                if seen.contains(bucket) { continue }
                seen.append(bucket)
                kept.insert(candidate.id)
                if seen.count == count { break }
            }
        }
        return kept
    }
}
