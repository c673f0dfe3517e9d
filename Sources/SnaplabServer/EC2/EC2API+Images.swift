import Foundation
import SnaplabCore

extension EC2API {
    func registerImage(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let name = try parameters.required("Name")
        let root = (parameters["RootDeviceName"] ?? "/dev/vda").replacingOccurrences(of: "/dev/", with: "")
        var boot: String?
        var data: [(String, ImageRegistration.DataDisk)] = []
        for prefix in parameters.structures("BlockDeviceMapping") {
            let device = (parameters["\(prefix).DeviceName"] ?? "").replacingOccurrences(of: "/dev/", with: "")
            let snapshot = parameters["\(prefix).Ebs.SnapshotId"]
            if device == root {
                boot = snapshot
                continue
            }
            let size = try parameters.volumeSize("\(prefix).Ebs.VolumeSize")
            let deleteOnTermination =
                parameters["\(prefix).Ebs.DeleteOnTermination"].map { $0.lowercased() == "true" } ?? true
            data.append(
                (
                    device,
                    ImageRegistration.DataDisk(
                        snapshotId: snapshot, size: size, deleteOnTermination: deleteOnTermination)
                ))
        }
        guard let bootSnapshot = boot else {
            throw EC2Error(
                code: "InvalidBlockDeviceMapping",
                message:
                    "The root device \(root) needs a BlockDeviceMapping with Ebs.SnapshotId of a boot-volume snapshot")
        }
        let registration = ImageRegistration(
            name: name, description: parameters["Description"], bootSnapshotId: bootSnapshot,
            dataDisks: data.sorted { $0.0 < $1.0 }.map(\.1), tags: try parameters.tagSpecifications(for: "image"))
        let image = try await call { () async throws(SnaplabError) in try await lab.images.register(registration) }
        return [XMLElement("imageId", image.id)]
    }

    func createImage(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let instanceId = try parameters.required("InstanceId")
        let name = try parameters.required("Name")
        let tags = try parameters.tagSpecifications(for: "image")
        let image = try await call { () async throws(SnaplabError) in
            try await lab.images.create(
                fromInstance: instanceId, name: name, description: parameters["Description"], tags: tags, wait: false)
        }
        return [XMLElement("imageId", image.id)]
    }

    func deregisterImage(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let id = try parameters.required("ImageId")
        let image = try await call { () async throws(SnaplabError) in try await lab.images.deregister(id) }
        if parameters.bool("DeleteAssociatedSnapshots") {
            for snapshotId in image.snapshotIds {
                _ = try await call { () async throws(SnaplabError) in try await lab.snapshots.delete(snapshotId) }
            }
        }
        return [XMLElement("return", "true")]
    }

    func describeImages(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let ids = parameters.list("ImageId")
        var images = try await call { () async throws(SnaplabError) in try await lab.images.list() }
        if ids.isEmpty {
            images = images.filter { $0.state != .deregistered }
        } else {
            for id in ids where !images.contains(where: { $0.id == id }) {
                _ = try await call { () async throws(SnaplabError) in try await lab.images.get(id) }
            }
            images = images.filter { ids.contains($0.id) }
        }
        images = try EC2Filtering.apply(images, parameters.filters, tags: \.tags) { image, name in
            switch name {
            case "image-id": [image.id]
            case "name": [image.name]
            case "state": [image.state.rawValue]
            case "description": [image.description ?? ""]
            case "block-device-mapping.snapshot-id": image.snapshotIds
            case "owner-id": [Self.owner]
            case "is-public": ["false"]
            case "image-type": ["machine"]
            case "architecture": ["x86_64"]
            default: nil
            }
        }
        let page = try EC2Filtering.page(images, parameters: parameters)
        return [XMLElement.set("imagesSet", page.items.map(Self.imageFields))]
            + XMLElement.optional("nextToken", page.nextToken)
    }

    static func imageFields(_ image: MachineImage) -> [XMLElement] {
        let root = [
            XMLElement("deviceName", "/dev/vda"),
            XMLElement(
                "ebs",
                [
                    XMLElement("snapshotId", image.bootSnapshotId), XMLElement("deleteOnTermination", "true"),
                    XMLElement("volumeType", "standard"), XMLElement("encrypted", "false"),
                ]),
        ]
        let data = image.blockDeviceMappings.map { mapping in
            [
                XMLElement("deviceName", "/dev/\(mapping.device)"),
                XMLElement(
                    "ebs",
                    XMLElement.optional("snapshotId", mapping.snapshotId)
                        + XMLElement.optional("volumeSize", mapping.size.map(gibibytes))
                        + [
                            XMLElement("deleteOnTermination", XMLElement.bool(mapping.deleteOnTermination)),
                            XMLElement("volumeType", "standard"), XMLElement("encrypted", "false"),
                        ]),
            ]
        }
        var fields = [
            XMLElement("imageId", image.id), XMLElement("imageLocation", "snaplab/\(image.name)"),
            XMLElement("imageState", image.state.rawValue), XMLElement("imageOwnerId", Self.owner),
            XMLElement("creationDate", XMLElement.timestamp(image.createdAt)), XMLElement("isPublic", "false"),
            XMLElement("architecture", "x86_64"), XMLElement("imageType", "machine"), XMLElement("name", image.name),
            XMLElement("rootDeviceType", "ebs"), XMLElement("rootDeviceName", "/dev/vda"),
            XMLElement.set("blockDeviceMapping", [root] + data), XMLElement("virtualizationType", "hvm"),
        ]
        fields += XMLElement.optional("description", image.description)
        fields += XMLElement.optional("sourceInstanceId", image.sourceInstanceId)
        if let reason = image.stateReason {
            fields.append(
                XMLElement("stateReason", [XMLElement("code", "Client.Error"), XMLElement("message", reason)]))
        }
        if !image.tags.isEmpty { fields.append(XMLElement.tagSet(image.tags)) }
        return fields
    }
}
