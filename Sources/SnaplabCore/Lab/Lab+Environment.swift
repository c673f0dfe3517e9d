import Foundation

/// What `up` or `down` did.
public struct EnvironmentReport: Sendable, Codable {
    public var created: [Instance] = []
    public var kept: [Instance] = []
    public var removed: [Instance] = []
}

extension Lab {
    static let environmentTag = "snaplab:environment"
    static let memberTag = "snaplab:member"

    /// Brings the environment up: launches the instances it lacks (all together) and leaves the ones it has.
    /// Running it twice changes nothing.
    public func environmentUp(_ spec: EnvironmentSpec, readyTimeout: Duration = .seconds(300))
        async throws(SnaplabError) -> EnvironmentReport
    {
        var report = EnvironmentReport()
        let live = try await environmentInstances(spec.name)
        var launched: [Instance] = []
        for member in spec.members {
            var dataSnapshots: [String: String] = [:]
            var emptySizes: [String: UInt64] = [:]
            for (device, source) in member.data {
                switch source {
                case .snapshot(let id): dataSnapshots[device] = id
                case .snapshotTag(let key, let value): dataSnapshots[device] = try await newestSnapshot(tagged: key, value)
                case .empty(let size): emptySizes[device] = size
                }
            }
            for index in 0..<member.count {
                let tag = "\(member.name)-\(index)"
                if let existing = live.first(where: { $0.tags[Self.memberTag] == tag }) {
                    report.kept.append(existing)
                    continue
                }
                let started = try await runInstances(ImageLaunchRequest(
                    image: member.image, memoryMiB: member.memoryMiB, vcpus: member.vcpus,
                    dataSnapshots: dataSnapshots, emptyDataSizes: emptySizes,
                    tags: [Self.environmentTag: spec.name, Self.memberTag: tag], readyTimeout: readyTimeout,
                    waitUntilReady: false))
                launched += started
            }
        }
        report.created = try await waitUntilRunning(launched.map(\.id), timeout: readyTimeout)
        return report
    }

    /// Terminates the environment's instances (and the data volumes they were given); nothing else.
    public func environmentDown(_ spec: EnvironmentSpec) async throws(SnaplabError) -> EnvironmentReport {
        var report = EnvironmentReport()
        for instance in try await environmentInstances(spec.name) {
            report.removed.append(try await terminateInstance(instance.id))
        }
        return report
    }

    public func environmentInstances(_ name: String) async throws(SnaplabError) -> [Instance] {
        var members: [Instance] = []
        for instance in try await catalog.instances()
        where instance.state != .terminated && instance.tags[Self.environmentTag] == name {
            members.append(try await refreshed(instance))
        }
        return members
    }

    /// Waits until every instance printed `ready` (from its console markers); fails with the console tail of one
    /// that stopped or did not make it in time.
    public func waitUntilRunning(_ ids: [String], timeout: Duration) async throws(SnaplabError) -> [Instance] {
        let deadline = ContinuousClock.now + timeout
        var pending = Set(ids)
        var done: [String: Instance] = [:]
        while !pending.isEmpty {
            for id in pending {
                let instance = try await refreshedInstance(id)
                switch instance.state {
                case .running:
                    done[id] = instance
                    pending.remove(id)
                case .pending:
                    break
                default:
                    throw SnaplabError(.guest, "instance \(id) is \(instance.state.rawValue) instead of booting. Console tail:\n\(ConsoleLog(path: instance.consolePath).tail())")
                }
            }
            if pending.isEmpty { break }
            if ContinuousClock.now >= deadline, let id = pending.first {
                let instance = try await catalog.instance(id)
                throw SnaplabError(.timeout, "instance \(id) did not print `ready` within \(timeout). Console tail:\n\(ConsoleLog(path: instance.consolePath).tail())")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
        return ids.compactMap { done[$0] }
    }

    private func newestSnapshot(tagged key: String, _ value: String) async throws(SnaplabError) -> String {
        let matching = try await catalog.snapshots(state: .completed).filter { $0.tags[key] == value }
        guard let newest = matching.max(by: { $0.createdAt < $1.createdAt }) else {
            throw SnaplabError(.notFound, "no completed snapshot is tagged \(key)=\(value)")
        }
        return newest.id
    }
}
