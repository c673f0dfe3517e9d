import Foundation

/// How long snapshots taken by a policy are kept. A snapshot is kept if any rule keeps it; pinned snapshots
/// and snapshots the policy did not take are never pruned.
public struct Retention: Codable, Sendable, Equatable {
    public var keepLast: Int
    /// Seconds: every snapshot younger than this.
    public var keepWithin: Int
    public var keepHourly: Int
    public var keepDaily: Int
    public var keepWeekly: Int
    public var keepMonthly: Int

    public init(
        keepLast: Int = 0, keepWithin: Int = 0, keepHourly: Int = 0, keepDaily: Int = 0, keepWeekly: Int = 0,
        keepMonthly: Int = 0
    ) {
        self.keepLast = keepLast
        self.keepWithin = keepWithin
        self.keepHourly = keepHourly
        self.keepDaily = keepDaily
        self.keepWeekly = keepWeekly
        self.keepMonthly = keepMonthly
    }

    func validate() throws(SnaplabError) {
        let values = [keepLast, keepWithin, keepHourly, keepDaily, keepWeekly, keepMonthly]
        guard values.allSatisfy({ $0 >= 0 }) else {
            throw SnaplabError(.invalidArgument, "retention counts cannot be negative")
        }
        guard values.contains(where: { $0 > 0 }) else {
            throw SnaplabError(
                .invalidArgument,
                "this retention keeps nothing: every snapshot would be pruned as soon as it is taken; set at least one of --keep-last, --keep-within, --keep-hourly, --keep-daily, --keep-weekly, --keep-monthly"
            )
        }
    }
}

/// When a policy runs: every N seconds from an anchor, or on a cron expression in a time zone.
public struct PolicySchedule: Codable, Sendable, Equatable {
    public var intervalSeconds: Int?
    public var cron: String?
    public var timeZone: String

    public init(intervalSeconds: Int? = nil, cron: String? = nil, timeZone: String = "UTC") {
        self.intervalSeconds = intervalSeconds
        self.cron = cron
        self.timeZone = timeZone
    }
}

/// A restore drill: restore the newest snapshot of each target, boot it with a fresh instance, check it.
public struct DrillSettings: Codable, Sendable, Equatable {
    /// The image (id or name) the drill instance boots.
    public var image: String
    /// A command the guest must run with exit 0 (after the filesystem check), e.g. `test -s /data/db`.
    public var command: String?
    /// Run a drill after every this many successful policy runs (0: only on demand).
    public var every: Int

    public init(image: String, command: String? = nil, every: Int = 0) {
        self.image = image
        self.command = command
        self.every = every
    }
}

/// A backup policy (like Data Lifecycle Manager): what to snapshot, when, how consistent, and how long to keep.
public struct Policy: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// Volumes (or, with `targetInstances`, instances) whose tags include all of these.
    public var targetTags: [String: String]
    /// Volume roles taken (data by default).
    public var targetRoles: [VolumeRole]
    /// Snapshot whole instances as snapshot sets instead of single volumes.
    public var targetInstances: Bool
    public var schedule: PolicySchedule
    /// The first slot (interval schedules count from here).
    public var anchor: Date
    /// Freeze filesystems (fs-frozen preferred, falling back to crash, recorded); false: crash-consistent.
    public var freeze: Bool
    public var retention: Retention
    public var drill: DrillSettings?
    public var enabled: Bool
    public var createdAt: Date

    public init(
        id: String, name: String, targetTags: [String: String], targetRoles: [VolumeRole] = [.data],
        targetInstances: Bool = false, schedule: PolicySchedule, anchor: Date, freeze: Bool = true,
        retention: Retention, drill: DrillSettings? = nil, enabled: Bool = true, createdAt: Date = Date()
    ) {
        self.id = id
        self.name = name
        self.targetTags = targetTags
        self.targetRoles = targetRoles
        self.targetInstances = targetInstances
        self.schedule = schedule
        self.anchor = anchor
        self.freeze = freeze
        self.retention = retention
        self.drill = drill
        self.enabled = enabled
        self.createdAt = createdAt
    }
}

/// One execution of a policy for one slot.
public struct PolicyRun: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case running
        case succeeded
        case failed
        /// Its process died; the slot is run again.
        case interrupted
    }

    public var id: Int64?
    public var policyId: String
    /// The schedule time this run is for (`snaplab:slot` on its snapshots).
    public var slot: Date
    public var state: State
    public var attempt: Int
    public var startedAt: Date
    public var endedAt: Date?
    public var snapshotsTaken: [String]
    public var snapshotsPruned: [String]
    public var errors: [String]
    public var warnings: [String]
    public var ownerPid: Int32?
    public var ownerStartTime: UInt64?
}

/// The outcome of a restore drill.
public struct DrillResult: Codable, Sendable, Equatable {
    public struct Target: Codable, Sendable, Equatable {
        public var volumeId: String
        public var snapshotId: String
        public var filesystemCheck: Int?
        public var commandStatus: Int?
        public var output: String
    }

    public var id: Int64?
    public var policyId: String
    public var startedAt: Date
    public var endedAt: Date
    public var passed: Bool
    public var instanceId: String?
    public var targets: [Target]
    public var error: String?
}
