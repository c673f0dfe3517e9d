import Foundation
import SnaplabCore

/// `GET /api/store`: where snapshots go and what the catalog says they hold there (the control screen's store
/// panel).
struct StoreSummary: Encodable {
    var url: String
    var snapshots: [String: Int]
    /// What the completed snapshots added to the store when they were written.
    var storedBytes: Int64
    var dedupRatio: Double?

    static func read(_ lab: Lab) async throws(SnaplabError) -> StoreSummary {
        let totals = try await lab.catalog.snapshotTotals()
        return StoreSummary(
            url: try await lab.store.url(), snapshots: totals.byState, storedBytes: totals.storedBytes,
            dedupRatio: totals.dedupRatio)
    }
}
