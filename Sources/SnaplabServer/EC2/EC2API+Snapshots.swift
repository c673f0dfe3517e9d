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
        return Self.snapshotFields(snapshot)
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
        try await call { () async throws(SnaplabError) in try await lab.snapshots.delete(id) }
        return [XMLElement("return", "true")]
    }

    func describeSnapshots(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let ids = parameters.list("SnapshotId")
        var snapshots = try await call { () async throws(SnaplabError) in try await lab.snapshots.list() }
        if !ids.isEmpty {
            for id in ids where !snapshots.contains(where: { $0.id == id }) {
                _ = try await call { () async throws(SnaplabError) in try await lab.snapshots.get(id) }
            }
            snapshots = snapshots.filter { ids.contains($0.id) }
        }
        snapshots = try EC2Filtering.apply(snapshots, parameters.filters, tags: \.tags) { snapshot, name in
            switch name {
            case "snapshot-id": [snapshot.id]
            case "volume-id": [snapshot.volumeId]
            case "status": [snapshot.state.rawValue]
            case "progress": [Self.progress(snapshot)]
            case "description": [snapshot.description ?? ""]
            case "owner-id": [Self.owner]
            case "volume-size": [Self.gibibytes(snapshot.volumeSize)]
            default: nil
            }
        }
        let page = try EC2Filtering.page(snapshots, parameters: parameters)
        return [XMLElement.set("snapshotSet", page.items.map(Self.snapshotFields))]
            + XMLElement.optional("nextToken", page.nextToken)
    }

    static func progress(_ snapshot: Snapshot) -> String {
        "\(snapshot.state == .completed ? 100 : Int(snapshot.progress))%"
    }

    static func snapshotFields(_ snapshot: Snapshot) -> [XMLElement] {
        var fields = [
            XMLElement("snapshotId", snapshot.id), XMLElement("volumeId", snapshot.volumeId),
            XMLElement("status", snapshot.state.rawValue),
            XMLElement("startTime", XMLElement.timestamp(snapshot.createdAt)),
            XMLElement("progress", progress(snapshot)), XMLElement("ownerId", Self.owner),
            XMLElement("volumeSize", gibibytes(snapshot.volumeSize)),
            XMLElement("description", snapshot.description ?? ""),
            XMLElement("encrypted", "false"), XMLElement("storageTier", "standard"),
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
