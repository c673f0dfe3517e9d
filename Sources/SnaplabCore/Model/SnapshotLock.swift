import Foundation

/// How a snapshot is locked against deletion (EBS snapshot lock). Governance can be lifted or changed by an
/// operator; compliance can be changed or lifted only during its cool-off, and afterwards only extended.
public enum SnapshotLockMode: String, Codable, Sendable, CaseIterable {
    case governance
    case compliance
}

/// What a lock does at a given moment (EBS `LockState`).
public enum SnapshotLockState: String, Codable, Sendable {
    case governance
    case compliance
    case complianceCoolOff = "compliance-cooloff"
    case expired
}

public struct SnapshotLock: Codable, Sendable, Equatable {
    public var mode: SnapshotLockMode
    public var lockedAt: Date
    public var expiresAt: Date
    /// Compliance only: until then the lock can still be lifted, shortened or changed.
    public var coolOffEndsAt: Date?

    /// Times are kept to the second: the store's copy of a lock is ISO 8601 text.
    public init(mode: SnapshotLockMode, lockedAt: Date, expiresAt: Date, coolOffEndsAt: Date? = nil) {
        let second = { (date: Date) in Date(timeIntervalSince1970: date.timeIntervalSince1970.rounded(.down)) }
        self.mode = mode
        self.lockedAt = second(lockedAt)
        self.expiresAt = second(expiresAt)
        self.coolOffEndsAt = coolOffEndsAt.map(second)
    }

    public func state(at now: Date = Date()) -> SnapshotLockState {
        if now >= expiresAt { return .expired }
        switch mode {
        case .governance: return .governance
        case .compliance:
            if let coolOffEndsAt, now < coolOffEndsAt { return .complianceCoolOff }
            return .compliance
        }
    }

    /// Whether the lock still forbids deleting the snapshot.
    public func isActive(at now: Date = Date()) -> Bool { state(at: now) != .expired }

    /// Whether an operator may lift, shorten or change it now (everything but a compliance lock past its cool-off).
    public func isAdjustable(at now: Date = Date()) -> Bool {
        [.governance, .complianceCoolOff, .expired].contains(state(at: now))
    }
}

/// What `snapshot lock` asks for: a mode, how long (days from now, or until a date), and for compliance an
/// optional cool-off of 1–72 hours.
public struct SnapshotLockRequest: Sendable {
    public enum Duration: Sendable {
        case days(Int)
        case until(Date)
    }

    public var mode: SnapshotLockMode
    public var duration: Duration
    public var coolOffHours: Int?

    public init(mode: SnapshotLockMode, duration: Duration, coolOffHours: Int? = nil) {
        self.mode = mode
        self.duration = duration
        self.coolOffHours = coolOffHours
    }

    /// The lock this request gives `snapshotId` at `now`, given the lock it has (nil: none). Refuses what EBS
    /// refuses: a compliance lock past its cool-off may only be extended, in compliance mode, without a new
    /// cool-off.
    public func lock(replacing current: SnapshotLock?, snapshotId: String, at now: Date) throws(SnaplabError)
        -> SnapshotLock
    {
        let expiresAt: Date
        switch duration {
        case .days(let days):
            guard (1...36_500).contains(days) else {
                throw SnaplabError(.invalidArgument, "a lock lasts 1 to 36500 days; got \(days)")
            }
            expiresAt = now.addingTimeInterval(Double(days) * 86_400)
        case .until(let date):
            guard date > now else {
                throw SnaplabError(
                    .invalidArgument, "the lock's end (\(ISO8601DateFormatter().string(from: date))) is past")
            }
            guard date <= now.addingTimeInterval(36_500 * 86_400) else {
                throw SnaplabError(.invalidArgument, "a lock lasts at most 36500 days")
            }
            expiresAt = date
        }
        if let coolOffHours {
            guard mode == .compliance else {
                throw SnaplabError(.invalidArgument, "a cool-off applies to compliance locks only")
            }
            guard (1...72).contains(coolOffHours) else {
                throw SnaplabError(.invalidArgument, "a cool-off lasts 1 to 72 hours; got \(coolOffHours)")
            }
        }
        let next = SnapshotLock(
            mode: mode, lockedAt: now, expiresAt: expiresAt,
            coolOffEndsAt: coolOffHours.map { now.addingTimeInterval(Double($0) * 3600) })
        guard let current, !current.isAdjustable(at: now) else { return next }
        let until = ISO8601DateFormatter().string(from: current.expiresAt)
        guard mode == .compliance else {
            throw SnaplabError(
                .conflict,
                "snapshot \(snapshotId) has a compliance lock until \(until) past its cool-off: it cannot become governance",
                subject: snapshotId)
        }
        guard coolOffHours == nil else {
            throw SnaplabError(
                .conflict, "snapshot \(snapshotId)'s compliance lock is past its cool-off: no new cool-off",
                subject: snapshotId)
        }
        guard expiresAt >= current.expiresAt else {
            throw SnaplabError(
                .conflict,
                "snapshot \(snapshotId) has a compliance lock until \(until) past its cool-off: it can only be extended",
                subject: snapshotId)
        }
        return SnapshotLock(mode: .compliance, lockedAt: current.lockedAt, expiresAt: expiresAt)
    }
}
