import Foundation
import Testing

@testable import SnaplabCore

@Suite struct SnapshotLockTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    let day = 86_400.0

    @Test func statesFollowTheClock() {
        let lock = SnapshotLock(
            mode: .compliance, lockedAt: now, expiresAt: now.addingTimeInterval(2 * day),
            coolOffEndsAt: now.addingTimeInterval(3600))
        #expect(lock.state(at: now) == .complianceCoolOff && lock.isAdjustable(at: now))
        #expect(lock.state(at: now.addingTimeInterval(3600)) == .compliance)
        #expect(!lock.isAdjustable(at: now.addingTimeInterval(3600)) && lock.isActive(at: now.addingTimeInterval(3600)))
        #expect(lock.state(at: now.addingTimeInterval(2 * day)) == .expired)
        #expect(!lock.isActive(at: now.addingTimeInterval(2 * day)))
    }

    @Test func complianceAfterItsCoolOffCanOnlyBeExtended() throws {
        let compliance = try SnapshotLockRequest(mode: .compliance, duration: .days(10))
            .lock(replacing: nil, snapshotId: "snap-1", at: now)
        #expect(compliance.coolOffEndsAt == nil && compliance.state(at: now) == .compliance)
        let later = now.addingTimeInterval(day)
        for refused in [
            SnapshotLockRequest(mode: .compliance, duration: .days(1)),  // ends before the current lock
            SnapshotLockRequest(mode: .governance, duration: .days(30)),  // weaker mode
            SnapshotLockRequest(mode: .compliance, duration: .days(30), coolOffHours: 2),  // a new cool-off
        ] {
            #expect(throws: SnaplabError.self) {
                try refused.lock(replacing: compliance, snapshotId: "snap-1", at: later)
            }
        }
        let extended = try SnapshotLockRequest(mode: .compliance, duration: .days(30))
            .lock(replacing: compliance, snapshotId: "snap-1", at: later)
        #expect(extended.expiresAt == later.addingTimeInterval(30 * day) && extended.lockedAt == now)
        // Once expired, anything goes again.
        let afterwards = now.addingTimeInterval(11 * day)
        let governance = try SnapshotLockRequest(mode: .governance, duration: .days(1))
            .lock(replacing: compliance, snapshotId: "snap-1", at: afterwards)
        #expect(governance.mode == .governance)
    }

    @Test func governanceAndCoolOffCanBeChangedFreely() throws {
        let coolOff = try SnapshotLockRequest(mode: .compliance, duration: .days(10), coolOffHours: 24)
            .lock(replacing: nil, snapshotId: "snap-1", at: now)
        let shortened = try SnapshotLockRequest(mode: .governance, duration: .days(1))
            .lock(replacing: coolOff, snapshotId: "snap-1", at: now.addingTimeInterval(3600))
        #expect(shortened.mode == .governance && shortened.coolOffEndsAt == nil)
        let governance = try SnapshotLockRequest(mode: .governance, duration: .days(5))
            .lock(replacing: shortened, snapshotId: "snap-1", at: now)
        #expect(governance.expiresAt == now.addingTimeInterval(5 * day))
    }

    @Test func refusesWhatEBSRefuses() {
        for request in [
            SnapshotLockRequest(mode: .governance, duration: .days(0)),
            SnapshotLockRequest(mode: .governance, duration: .days(36_501)),
            SnapshotLockRequest(mode: .governance, duration: .until(now.addingTimeInterval(-1))),
            SnapshotLockRequest(mode: .governance, duration: .days(1), coolOffHours: 1),
            SnapshotLockRequest(mode: .compliance, duration: .days(1), coolOffHours: 73),
            SnapshotLockRequest(mode: .compliance, duration: .days(1), coolOffHours: 0),
        ] {
            #expect(throws: SnaplabError.self) { try request.lock(replacing: nil, snapshotId: "snap-1", at: now) }
        }
    }

    @Test func theLongestMatchingBinRuleApplies() {
        let all = RecycleBinRule(id: "rbin-a", retentionDays: 3)
        let prod = RecycleBinRule(id: "rbin-b", retentionDays: 30, resourceTags: ["env": "prod", "keep": "yes"])
        #expect(RecycleBinRule.applying(to: ["env": "prod"], among: [all, prod])?.id == "rbin-b")
        #expect(RecycleBinRule.applying(to: ["keep": "yes"], among: [all, prod])?.id == "rbin-b")
        #expect(RecycleBinRule.applying(to: ["env": "dev"], among: [all, prod])?.id == "rbin-a")
        #expect(RecycleBinRule.applying(to: ["env": "dev"], among: [prod]) == nil)
    }
}
