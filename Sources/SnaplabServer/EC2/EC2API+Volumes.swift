import Foundation
import SnaplabCore

extension EC2API {
    func createVolume(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let tags = try parameters.tagSpecifications(for: "volume")
        let volume: Volume
        if let snapshotId = parameters["SnapshotId"] {
            volume = try await call { () async throws(SnaplabError) in
                try await lab.snapshots.restore(snapshotId, tags: tags)
            }
        } else {
            guard let size = try parameters.volumeSize("Size") else {
                throw EC2Error(
                    code: "MissingParameter", message: "The request must contain the parameter Size (GiB) or SnapshotId"
                )
            }
            volume = try await call { () async throws(SnaplabError) in
                try await lab.volumes.create(role: .data, size: size, tags: tags)
            }
        }
        return Self.volumeFields(volume, origin: parameters["SnapshotId"])
    }

    func deleteVolume(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let id = try parameters.required("VolumeId")
        try await call { () async throws(SnaplabError) in try await lab.volumes.delete(id) }
        return [XMLElement("return", "true")]
    }

    func describeVolumes(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let ids = parameters.list("VolumeId")
        var volumes = try await call { () async throws(SnaplabError) in try await lab.volumes.list() }
        if !ids.isEmpty {
            for id in ids where !volumes.contains(where: { $0.id == id }) {
                _ = try await call { () async throws(SnaplabError) in try await lab.volumes.get(id) }
            }
            volumes = volumes.filter { ids.contains($0.id) }
        }
        volumes = try EC2Filtering.apply(volumes, parameters.filters, tags: \.tags) { volume, name in
            switch name {
            case "volume-id": [volume.id]
            case "status": [Self.volumeStatus(volume)]
            case "size": [Self.gibibytes(volume.size)]
            case "availability-zone": [Self.zone]
            case "attachment.instance-id": volume.instanceId.map { [$0] } ?? []
            case "attachment.device": volume.device.map { ["/dev/\($0)"] } ?? []
            case "attachment.status": volume.instanceId == nil ? [] : ["attached"]
            case "volume-type": ["standard"]
            default: nil
            }
        }
        let page = try EC2Filtering.page(volumes, parameters: parameters)
        return [XMLElement.set("volumeSet", page.items.map { Self.volumeFields($0, origin: nil) })]
            + XMLElement.optional("nextToken", page.nextToken)
    }

    func attachVolume(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let volumeId = try parameters.required("VolumeId")
        let instanceId = try parameters.required("InstanceId")
        let device = parameters["Device"]
        let volume = try await call { () async throws(SnaplabError) in
            try await lab.instances.attach(volumeId, to: instanceId, device: device)
        }
        return Self.attachmentFields(volume, instanceId: instanceId, status: "attached")
    }

    func detachVolume(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let volumeId = try parameters.required("VolumeId")
        let before = try await call { () async throws(SnaplabError) in try await lab.volumes.get(volumeId) }
        _ = try await call { () async throws(SnaplabError) in
            try await lab.instances.detach(volumeId, from: parameters["InstanceId"], force: parameters.bool("Force"))
        }
        return Self.attachmentFields(before, instanceId: before.instanceId ?? "", status: "detached")
    }

    static func volumeStatus(_ volume: Volume) -> String { volume.state.rawValue }

    static func volumeFields(_ volume: Volume, origin: String?) -> [XMLElement] {
        var fields = [
            XMLElement("volumeId", volume.id), XMLElement("size", gibibytes(volume.size)),
            XMLElement(
                "snapshotId",
                origin ?? volume.origin.flatMap { $0.hasPrefix("snapshot ") ? String($0.dropFirst(9)) : nil } ?? ""),
            XMLElement("availabilityZone", zone), XMLElement("status", volumeStatus(volume)),
            XMLElement("createTime", XMLElement.timestamp(volume.createdAt)),
            XMLElement.set(
                "attachmentSet",
                volume.instanceId.map { instance in
                    [attachmentFields(volume, instanceId: instance, status: "attached")]
                } ?? []),
            XMLElement("volumeType", "standard"), XMLElement("encrypted", "false"),
            XMLElement("multiAttachEnabled", "false"),
        ]
        if !volume.tags.isEmpty { fields.append(XMLElement.tagSet(volume.tags)) }
        return fields
    }

    static func attachmentFields(_ volume: Volume, instanceId: String, status: String) -> [XMLElement] {
        [
            XMLElement("volumeId", volume.id), XMLElement("instanceId", instanceId),
            XMLElement("device", volume.device.map { "/dev/\($0)" } ?? ""), XMLElement("status", status),
            XMLElement("attachTime", XMLElement.timestamp(volume.createdAt)),
            XMLElement("deleteOnTermination", XMLElement.bool(volume.deleteOnTermination)),
        ]
    }
}
