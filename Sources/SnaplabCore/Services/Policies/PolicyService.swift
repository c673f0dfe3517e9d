import Foundation
import Logging

/// What `policy create` asks for.
public struct PolicyRequest: Sendable {
    public var name: String
    public var targetTags: [String: String]
    public var targetRoles: [VolumeRole]
    public var targetInstances: Bool
    public var schedule: PolicySchedule
    /// The first slot (default: now).
    public var anchor: Date?
    public var freeze: Bool
    public var retention: Retention
    public var drill: DrillSettings?

    public init(
        name: String, targetTags: [String: String], targetRoles: [VolumeRole] = [.data],
        targetInstances: Bool = false, schedule: PolicySchedule, anchor: Date? = nil, freeze: Bool = true,
        retention: Retention, drill: DrillSettings? = nil
    ) {
        self.name = name
        self.targetTags = targetTags
        self.targetRoles = targetRoles
        self.targetInstances = targetInstances
        self.schedule = schedule
        self.anchor = anchor
        self.freeze = freeze
        self.retention = retention
        self.drill = drill
    }
}

/// What a policy would snapshot right now.
public struct PolicyTargets: Sendable {
    public var volumes: [Volume]
    public var instances: [Instance]
    public var isEmpty: Bool { volumes.isEmpty && instances.isEmpty }
}

/// Backup policies: what to snapshot, when, how long to keep it; their runs, pruning and restore drills.
public final class PolicyService: Sendable {
    let logger = Logger(label: "snaplab.policies")
    static let policyTag = "snaplab:policy"
    static let slotTag = "snaplab:slot"

    let catalog: Catalog
    let hosts: HostService
    let snapshots: SnapshotService
    let instances: InstanceService
    let volumes: VolumeService
    let images: ImageService
    let bases: BaseService
    let copies: SnapshotCopies

    init(
        catalog: Catalog, hosts: HostService, snapshots: SnapshotService, instances: InstanceService,
        volumes: VolumeService, images: ImageService, bases: BaseService, copies: SnapshotCopies
    ) {
        self.catalog = catalog
        self.hosts = hosts
        self.snapshots = snapshots
        self.instances = instances
        self.volumes = volumes
        self.images = images
        self.bases = bases
        self.copies = copies
    }

    /// Creates a policy; the warnings say what looks wrong but is allowed (a target that matches nothing yet).
    public func create(_ request: PolicyRequest) async throws(SnaplabError) -> (Policy, warnings: [String]) {
        guard !request.name.isEmpty else { throw SnaplabError(.invalidArgument, "a policy needs a name") }
        try request.schedule.validate()
        try request.retention.validate()
        guard !request.targetTags.isEmpty else {
            throw SnaplabError(.invalidArgument, "a policy needs a target: --target-tag KEY=VALUE (e.g. backup=hourly)")
        }
        guard request.targetInstances || !request.targetRoles.isEmpty else {
            throw SnaplabError(.invalidArgument, "choose at least one volume role to target")
        }
        let anchor = Date(timeIntervalSince1970: (request.anchor ?? Date()).timeIntervalSince1970.rounded(.down))
        let policy = Policy(
            id: ResourceID.generate(.policy), name: request.name, targetTags: request.targetTags,
            targetRoles: request.targetRoles, targetInstances: request.targetInstances,
            schedule: request.schedule, anchor: anchor, freeze: request.freeze,
            retention: request.retention, drill: request.drill)
        try await catalog.insert(policy)
        return (policy, try await warnings(for: policy))
    }

    /// Replaces a policy's settings (its id, anchor and history stay).
    public func update(_ policy: Policy) async throws(SnaplabError) -> (Policy, warnings: [String]) {
        _ = try await catalog.policy(policy.id)
        try policy.schedule.validate()
        try policy.retention.validate()
        try await catalog.update(policy)
        return (policy, try await warnings(for: policy))
    }

    /// Deletes a policy; the snapshots it took stay (and are no longer pruned).
    public func delete(_ id: String) async throws(SnaplabError) {
        _ = try await catalog.policy(id)
        try await catalog.deletePolicy(id)
    }

    public func list() async throws(SnaplabError) -> [Policy] { try await catalog.policies() }
    public func get(_ id: String) async throws(SnaplabError) -> Policy { try await catalog.policy(id) }
    public func history(_ id: String) async throws(SnaplabError) -> [PolicyRun] { try await catalog.runs(of: id) }

    public func targets(of policy: Policy) async throws(SnaplabError) -> PolicyTargets {
        func matches(_ tags: [String: String]) -> Bool {
            policy.targetTags.allSatisfy { tags[$0.key] == $0.value }
        }
        if policy.targetInstances {
            let instances = try await catalog.instances().filter { $0.state != .terminated && matches($0.tags) }
            return PolicyTargets(volumes: [], instances: instances)
        }
        let volumes = try await catalog.volumes().filter { volume in
            matches(volume.tags) && policy.targetRoles.contains(volume.role)
                && [.available, .inUse].contains(volume.state)
        }
        return PolicyTargets(volumes: volumes.sorted { ($0.size, $0.id) < ($1.size, $1.id) }, instances: [])
    }

    private func warnings(for policy: Policy) async throws(SnaplabError) -> [String] {
        var warnings: [String] = []
        if try await targets(of: policy).isEmpty {
            let what = policy.targetInstances ? "instance" : "volume"
            warnings.append(
                "no \(what) is tagged \(Printable.tags(policy.targetTags)) yet: runs will take nothing until one is")
        }
        return warnings
    }

    /// The completed snapshots a policy's runs took (found by the policy's tag in the catalog's tag table).
    static func snapshotsTaken(by policyId: String) -> SnapshotQuery {
        SnapshotQuery(states: [.completed], tags: [TagFilter.exactly(policyTag, policyId)])
    }

    /// The slot time a policy snapshot was taken for.
    static func slotTime(of snapshot: Snapshot) -> Date? {
        snapshot.tags[slotTag].flatMap { try? Date.ISO8601FormatStyle().parse($0) }
    }

    static func slotText(_ slot: Date) -> String { ISO8601DateFormatter().string(from: slot) }
}

enum Printable {
    static func tags(_ tags: [String: String]) -> String {
        tags.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }
}
