import Foundation

/// What `up` or `down` did.
public struct EnvironmentReport: Sendable, Codable {
    public var created: [Instance] = []
    public var kept: [Instance] = []
    public var removed: [Instance] = []
}

/// Test environments (`snaplab up` / `down`): a client of the lab that launches what a lab.yaml lists and
/// tells its instances apart by tags.
public struct Environments: Sendable {
    static let environmentTag = "snaplab:environment"
    static let memberTag = "snaplab:member"

    public let lab: Lab

    public init(lab: Lab) {
        self.lab = lab
    }

    /// Brings the environment up: launches the instances it lacks (all together) and leaves the ones it has.
    /// Running it twice changes nothing.
    public func up(_ spec: EnvironmentSpec, readyTimeout: Duration = .seconds(300))
        async throws(SnaplabError) -> EnvironmentReport
    {
        var report = EnvironmentReport()
        let live = try await instances(of: spec.name)
        var launched: [Instance] = []
        for member in spec.members {
            var dataSnapshots: [String: String] = [:]
            var emptySizes: [String: UInt64] = [:]
            for (device, source) in member.data {
                switch source {
                case .snapshot(let id): dataSnapshots[device] = id
                case .snapshotTag(let key, let value):
                    dataSnapshots[device] = try await newestSnapshot(tagged: key, value)
                case .empty(let size): emptySizes[device] = size
                }
            }
            for index in 0..<member.count {
                let tag = "\(member.name)-\(index)"
                if let existing = live.first(where: { $0.tags[Self.memberTag] == tag }) {
                    report.kept.append(existing)
                    continue
                }
                var request = ImageLaunchRequest(
                    image: member.image, memoryMiB: member.memoryMiB, vcpus: member.vcpus,
                    dataSnapshots: dataSnapshots, emptyDataSizes: emptySizes,
                    tags: [Self.environmentTag: spec.name, Self.memberTag: tag], readyTimeout: readyTimeout,
                    waitUntilReady: false)
                request.customization = member.customization
                launched += try await lab.images.launch(request)
            }
        }
        report.created = try await lab.instances.waitUntilRunning(launched.map(\.id), timeout: readyTimeout)
        return report
    }

    /// Terminates the environment's instances (and the data volumes they were given); nothing else.
    public func down(_ spec: EnvironmentSpec) async throws(SnaplabError) -> EnvironmentReport {
        var report = EnvironmentReport()
        for instance in try await instances(of: spec.name) {
            report.removed.append(try await lab.instances.terminate(instance.id))
        }
        return report
    }

    /// The environment's live instances.
    public func instances(of name: String) async throws(SnaplabError) -> [Instance] {
        try await lab.instances.list().filter { $0.state != .terminated && $0.tags[Self.environmentTag] == name }
    }

    private func newestSnapshot(tagged key: String, _ value: String) async throws(SnaplabError) -> String {
        let query = SnapshotQuery(states: [.completed], tags: [TagFilter.exactly(key, value)], limit: 1)
        guard let newest = try await lab.catalog.snapshots(matching: query).last else {
            throw SnaplabError(.notFound, "no completed snapshot is tagged \(key)=\(value)")
        }
        return newest.id
    }
}
