import Foundation
import SnaplabCore

extension EC2API {
    func createSnapshot(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let volumeId = try parameters.required("VolumeId")
        let options = SnapshotOptions(
            description: parameters["Description"], tags: try parameters.tagSpecifications(for: "snapshot"))
        let snapshot = try await call { () async throws(SnaplabError) in
            try await lab.snapshots.create(volumeId: volumeId, options: options)
        }
        return Self.snapshotFields(snapshot, encrypted: await storeIsEncrypted())
    }

    func createSnapshots(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let instanceId = try parameters.required("InstanceSpecification.InstanceId")
        let excludeBoot = parameters.bool("InstanceSpecification.ExcludeBootVolume")
        let excluded = Set(parameters.list("InstanceSpecification.ExcludeDataVolumeId"))
        let options = SnapshotOptions(
            description: parameters["Description"], tags: try parameters.tagSpecifications(for: "snapshot"))
        let attached = try await call { () async throws(SnaplabError) in
            try await lab.catalog.volumes(attachedTo: instanceId)
        }
        let chosen = attached.filter { !(excludeBoot && $0.role == .boot) && !excluded.contains($0.id) }.map(\.id)
        let snapshots = try await call { () async throws(SnaplabError) in
            try await lab.snapshots.createSet(instanceId: instanceId, volumeIds: chosen, options: options)
        }
        return [
            XMLElement.set(
                "snapshotSet",
                snapshots.map { snapshot in
                    [
                        XMLElement("snapshotId", snapshot.id), XMLElement("volumeId", snapshot.volumeId),
                        XMLElement("state", snapshot.state.rawValue),
                        XMLElement("startTime", XMLElement.timestamp(snapshot.createdAt)),
                        XMLElement("progress", Self.progress(snapshot)),
                        XMLElement("volumeSize", Self.gibibytes(snapshot.volumeSize)),
                        XMLElement("description", snapshot.description ?? ""), XMLElement("ownerId", Self.owner),
                    ]
                        + (snapshot.tags.isEmpty ? [] : [XMLElement.tagSet(snapshot.tags)])
                })
        ]
    }

    func deleteSnapshot(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let id = try parameters.required("SnapshotId")
        _ = try await call { () async throws(SnaplabError) in try await lab.snapshots.delete(id) }
        return [XMLElement("return", "true")]
    }

    /// Filters and pages in the catalog; without `MaxResults`, everything, streamed page by page.
    func describeSnapshots(_ parameters: EC2Parameters) async throws(EC2Error) -> EC2Result {
        let ids = parameters.list("SnapshotId")
        let (query, residual) = try Self.snapshotQuery(ids: ids, filters: parameters.filters)
        if !ids.isEmpty {
            let found = try await call { () async throws(SnaplabError) in
                Set(try await lab.catalog.snapshots(matching: SnapshotQuery(ids: ids)).map(\.id))
            }
            for id in ids where !found.contains(id) {
                _ = try await call { () async throws(SnaplabError) in try await lab.snapshots.get(id) }
            }
        }
        let token: PageToken?
        do throws(SnaplabError) {
            token = try parameters["NextToken"].map { text throws(SnaplabError) in try PageToken(text: text) }
        } catch {
            throw EC2Error(
                code: "InvalidParameterValue", message: "The token '\(parameters["NextToken"] ?? "")' is invalid")
        }
        let catalog = lab.catalog
        let encrypted = await storeIsEncrypted()
        let fetch: @Sendable (PageToken?, Int) async throws(SnaplabError) -> (items: [[XMLElement]], next: PageToken?) =
            {
                after, size async throws(SnaplabError) in
                let page = try await catalog.snapshots(matching: query, pageSize: size, after: after)
                let kept = page.items.filter { snapshot in
                    residual.allSatisfy { $0.matches(Self.field($0.name, of: snapshot)) }
                }
                return (kept.map { Self.snapshotFields($0, encrypted: encrypted) }, page.next)
            }
        guard let maximum = try parameters.int("MaxResults", in: 1...1000) else {
            return .pagedSet(name: "snapshotSet") { after async throws(SnaplabError) in try await fetch(after, 1000) }
        }
        let page = try await call { () async throws(SnaplabError) in try await fetch(token, maximum) }
        return .elements(
            [XMLElement.set("snapshotSet", page.items)] + XMLElement.optional("nextToken", page.next?.text))
    }

    /// EC2's filters as a catalog query; `progress` and `volume-size` (computed values) are left to check on
    /// each page.
    static func snapshotQuery(ids: [String], filters: [EC2Filter]) throws(EC2Error)
        -> (query: SnapshotQuery, residual: [EC2Filter])
    {
        var query = SnapshotQuery(ids: ids)
        var residual: [EC2Filter] = []
        for filter in filters {
            switch filter.name {
            case "snapshot-id" where ids.isEmpty: query.ids = filter.values
            case "volume-id" where query.volumeIds.isEmpty: query.volumeIds = filter.values
            case "description" where query.descriptions.isEmpty: query.descriptions = filter.values
            case "status" where query.states.isEmpty:
                // No state matches an unknown status: an empty answer, as EC2 gives.
                query.states = filter.values.compactMap(SnapshotState.init(rawValue:))
                if query.states.isEmpty { query.matchesNothing = true }
            case "owner-id":
                if !filter.matches(Self.owner) { query.matchesNothing = true }
            case "tag-key": query.tags.append(TagFilter(key: nil, keyPatterns: filter.values))
            case "tag-value": query.tags.append(TagFilter(key: nil, values: filter.values))
            case let name where name.hasPrefix("tag:"):
                query.tags.append(TagFilter(key: String(name.dropFirst(4)), values: filter.values))
            case "snapshot-id", "volume-id", "description", "status", "progress", "volume-size":
                residual.append(filter)
            default:
                throw EC2Error(code: "InvalidParameterValue", message: "The filter '\(filter.name)' is invalid")
            }
        }
        return (query, residual)
    }

    static func field(_ name: String, of snapshot: Snapshot) -> String {
        switch name {
        case "snapshot-id": snapshot.id
        case "volume-id": snapshot.volumeId
        case "description": snapshot.description ?? ""
        case "status": snapshot.state.rawValue
        case "progress": progress(snapshot)
        default: gibibytes(snapshot.volumeSize)
        }
    }

    static func progress(_ snapshot: Snapshot) -> String {
        "\(snapshot.state == .completed ? 100 : Int(snapshot.progress))%"
    }

    /// Whether snapshots are encrypted at rest: the store is (false when it cannot be opened just now).
    func storeIsEncrypted() async -> Bool {
        (try? await lab.store.open())?.isEncrypted ?? false
    }

    static func snapshotFields(_ snapshot: Snapshot, encrypted: Bool) -> [XMLElement] {
        var fields = [
            XMLElement("snapshotId", snapshot.id), XMLElement("volumeId", snapshot.volumeId),
            XMLElement("status", snapshot.state.rawValue),
            XMLElement("startTime", XMLElement.timestamp(snapshot.createdAt)),
            XMLElement("progress", progress(snapshot)), XMLElement("ownerId", Self.owner),
            XMLElement("volumeSize", gibibytes(snapshot.volumeSize)),
            XMLElement("description", snapshot.description ?? ""),
            XMLElement("encrypted", encrypted ? "true" : "false"), XMLElement("storageTier", "standard"),
        ]
        if let message = snapshot.errorMessage { fields.append(XMLElement("statusMessage", message)) }
        if let completed = snapshot.completedAt {
            fields.append(XMLElement("completionTime", XMLElement.timestamp(completed)))
        }
        if snapshot.state == .completed {
            fields.append(XMLElement("fullSnapshotSizeInBytes", String(snapshot.allocatedBytes)))
        }
        if !snapshot.tags.isEmpty { fields.append(XMLElement.tagSet(snapshot.tags)) }
        return fields
    }
}
