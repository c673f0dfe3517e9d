import Foundation
import GRDB

extension Catalog {
    public func insert(_ policy: Policy) async throws(SnaplabError) {
        try await write { db in try policy.insert(db) }
    }

    public func update(_ policy: Policy) async throws(SnaplabError) {
        try await write { db in try policy.update(db) }
    }

    public func policy(_ id: String) async throws(SnaplabError) -> Policy {
        try ResourceID.validate(id, as: .policy)
        let policy = try await read { db in try Policy.fetchOne(db, key: id) }
        guard let policy else {
            throw SnaplabError.notFound("policy", id, hint: "`snaplab policy list` shows the policies")
        }
        return policy
    }

    public func policies() async throws(SnaplabError) -> [Policy] {
        try await read { db in try Policy.order(Column("createdAt"), Column("id")).fetchAll(db) }
    }

    public func deletePolicy(_ id: String) async throws(SnaplabError) {
        _ = try await write { db in try Policy.deleteOne(db, key: id) }
    }

    /// Claims a policy's slot for this process. Returns the run to carry out, or nil when the slot is done or
    /// a live process is running it. A run whose process died is taken over (marked interrupted first).
    public func claimRun(
        policyId: String, slot: Date, owner: (pid: Int32, startTime: UInt64),
        isAlive: @escaping @Sendable (Int32, UInt64) -> Bool
    ) async throws(SnaplabError) -> PolicyRun? {
        try await write { db in
            if var existing = try PolicyRun.filter(Column("policyId") == policyId && Column("slot") == slot).fetchOne(
                db)
            {
                switch existing.state {
                case .succeeded, .failed:
                    return nil
                case .running:
                    if let pid = existing.ownerPid, let start = existing.ownerStartTime, isAlive(pid, start) {
                        return nil
                    }
                    try existing.move(to: .interrupted)
                case .interrupted:
                    break
                }
                try existing.move(to: .running)
                existing.attempt += 1
                existing.ownerPid = owner.pid
                existing.ownerStartTime = owner.startTime
                existing.warnings.append("attempt \(existing.attempt): the previous attempt was interrupted")
                try existing.update(db)
                return existing
            }
            var run = PolicyRun(
                policyId: policyId, slot: slot, state: .running, attempt: 1, startedAt: Date(),
                snapshotsTaken: [], snapshotsPruned: [], errors: [], warnings: [],
                ownerPid: owner.pid, ownerStartTime: owner.startTime)
            try run.insert(db)
            return run
        }
    }

    public func update(_ run: PolicyRun) async throws(SnaplabError) {
        try await write { db in try run.update(db) }
    }

    public func runs(of policyId: String) async throws(SnaplabError) -> [PolicyRun] {
        try await read { db in try PolicyRun.filter(Column("policyId") == policyId).order(Column("slot")).fetchAll(db) }
    }

    /// The newest slot whose run finished (either way).
    public func lastFinishedSlot(of policyId: String) async throws(SnaplabError) -> Date? {
        try await read { db in
            try Date.fetchOne(
                db, sql: "SELECT MAX(slot) FROM policyRuns WHERE policyId = ? AND state IN ('succeeded', 'failed')",
                arguments: [policyId])
        }
    }

    public func insert(_ drill: DrillResult) async throws(SnaplabError) -> DrillResult {
        try await write { db in
            var stored = drill
            try stored.insert(db)
            return stored
        }
    }

    public func drills(of policyId: String) async throws(SnaplabError) -> [DrillResult] {
        try await read { db in
            try DrillResult.filter(Column("policyId") == policyId).order(Column("startedAt")).fetchAll(db)
        }
    }
}
