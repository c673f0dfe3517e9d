import Foundation
import SnaplabCore

/// `GET /api/policies/ID/runs`: a policy's schedule, its next run and its newest runs with what each took and
/// pruned (the control screen's policy view).
struct PolicyView: Encodable {
    var id: String
    var schedule: String
    var nextRun: Date?
    var retention: String
    var runs: [PolicyRun]

    static let shownRuns = 10

    static func read(_ lab: Lab, _ id: String) async throws(SnaplabError) -> PolicyView {
        let policy = try await lab.policies.get(id)
        let runs = try await lab.policies.history(id).sorted { $0.slot > $1.slot }.prefix(shownRuns)
        let retention = policy.retention
        let kept = [
            ("last", retention.keepLast), ("hourly", retention.keepHourly), ("daily", retention.keepDaily),
            ("weekly", retention.keepWeekly), ("monthly", retention.keepMonthly),
        ].filter { $0.1 > 0 }.map { "\($0.1) \($0.0)" }
        return PolicyView(
            id: policy.id, schedule: policy.schedule.summary,
            nextRun: policy.enabled ? policy.schedule.nextSlot(after: Date(), anchor: policy.anchor) : nil,
            retention: (kept + (retention.keepWithin > 0 ? ["within \(retention.keepWithin) s"] : []))
                .joined(separator: ", "),
            runs: Array(runs))
    }
}
