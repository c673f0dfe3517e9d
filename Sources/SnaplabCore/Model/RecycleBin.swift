import Foundation

/// Keeps deleted snapshots for a while (EBS Recycle Bin retention rule): those with at least one of
/// `resourceTags` (every snapshot when empty) go to the bin for `retentionDays` instead of being deleted.
public struct RecycleBinRule: Codable, Sendable, Equatable {
    public var id: String
    public var retentionDays: Int
    public var resourceTags: [String: String]
    public var description: String?
    public var createdAt: Date

    public init(
        id: String = ResourceID.generate(.recycleBinRule), retentionDays: Int, resourceTags: [String: String] = [:],
        description: String? = nil, createdAt: Date = Date()
    ) {
        self.id = id
        self.retentionDays = retentionDays
        self.resourceTags = resourceTags
        self.description = description
        self.createdAt = createdAt
    }

    public func matches(_ tags: [String: String]) -> Bool {
        resourceTags.isEmpty || resourceTags.contains { tags[$0.key] == $0.value }
    }

    public func validate() throws(SnaplabError) {
        guard (1...365).contains(retentionDays) else {
            throw SnaplabError(
                .invalidArgument, "a recycle bin rule keeps snapshots 1 to 365 days; got \(retentionDays)")
        }
    }

    /// The rule that applies to a snapshot with these tags: the longest retention among those that match.
    public static func applying(to tags: [String: String], among rules: [RecycleBinRule]) -> RecycleBinRule? {
        rules.filter { $0.matches(tags) }.max { ($0.retentionDays, $1.id) < ($1.retentionDays, $0.id) }
    }
}

/// A deleted snapshot the bin still holds: its catalog row as it was, and until when it can be recovered.
public struct RecycledSnapshot: Codable, Sendable, Equatable {
    public var snapshot: Snapshot
    public var deletedAt: Date
    public var retainUntil: Date
    public var ruleId: String

    public init(snapshot: Snapshot, deletedAt: Date, retainUntil: Date, ruleId: String) {
        self.snapshot = snapshot
        self.deletedAt = deletedAt
        self.retainUntil = retainUntil
        self.ruleId = ruleId
    }
}
