import Foundation
import SnaplabCore

extension EC2API {
    func runInstances(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let imageId = try parameters.required("ImageId")
        let minimum = try parameters.int("MinCount", in: 1...Self.maxInstancesPerRequest) ?? 1
        let maximum = try parameters.int("MaxCount", in: 1...Self.maxInstancesPerRequest) ?? minimum
        guard maximum >= minimum else {
            throw EC2Error(
                code: "InvalidParameterValue", message: "MinCount and MaxCount must be at least 1, MinCount ≤ MaxCount")
        }
        var request = ImageLaunchRequest(
            image: imageId, count: maximum, tags: try parameters.tagSpecifications(for: "instance"),
            waitUntilReady: false)
        for prefix in parameters.structures("BlockDeviceMapping") {
            let device = (parameters["\(prefix).DeviceName"] ?? "").replacingOccurrences(of: "/dev/", with: "")
            if device == "vda" { continue }
            if let snapshot = parameters["\(prefix).Ebs.SnapshotId"] {
                request.dataSnapshots[device] = snapshot
            } else if let size = try parameters.volumeSize("\(prefix).Ebs.VolumeSize") {
                request.emptyDataSizes[device] = size
            }
        }
        if let encoded = parameters["UserData"] {
            // Base64, as EC2 takes it (the AWS CLI encodes the file it is given).
            guard let userData = Data(base64Encoded: encoded) else {
                throw EC2Error(code: "InvalidParameterValue", message: "UserData must be base64-encoded")
            }
            let customization = GuestCustomization(userData: userData)
            do throws(SnaplabError) {
                try customization.validate()
            } catch {
                throw EC2Error(code: "InvalidParameterValue", message: error.message)
            }
            request.customization = customization
        }
        if let type = parameters["InstanceType"], let shape = Self.instanceShape(type) {
            request.memoryMiB = shape.memory
            request.vcpus = shape.vcpus
        }
        let launched = try await call { () async throws(SnaplabError) in try await lab.images.launch(request) }
        var fields = [
            XMLElement("reservationId", "r-\(launched.first?.id.dropFirst(2) ?? "")"),
            XMLElement("ownerId", Self.owner), XMLElement.set("groupSet", []),
        ]
        var items: [[XMLElement]] = []
        for (index, instance) in launched.enumerated() {
            let attached = try await call { () async throws(SnaplabError) in
                try await lab.catalog.volumes(attachedTo: instance.id)
            }
            items.append(Self.instanceFields(instance, attached: attached, launchIndex: index))
        }
        fields.append(XMLElement.set("instancesSet", items))
        return fields
    }

    enum StateChange {
        case start
        case stop(force: Bool)
        case terminate
    }

    /// Start/Stop/Terminate: every id is checked first, then each changes; the answer lists previous and
    /// current states. Starting and stopping return at once (`pending`, `stopping`), as EC2 does.
    func changeStates(_ parameters: EC2Parameters, _ change: StateChange) async throws(EC2Error) -> [XMLElement] {
        let ids = parameters.list("InstanceId")
        guard !ids.isEmpty else {
            throw EC2Error(code: "MissingParameter", message: "The request must contain the parameter InstanceId")
        }
        var previous: [Instance] = []
        for id in ids {
            previous.append(try await call { () async throws(SnaplabError) in try await lab.instances.get(id) })
        }
        var items: [[XMLElement]] = []
        for before in previous {
            let after = try await call { () async throws(SnaplabError) -> Instance in
                switch change {
                case .start: try await lab.instances.start(before.id, waitUntilReady: false)
                case .stop(let force): try await lab.instances.stop(before.id, force: force, wait: false)
                case .terminate: try await lab.instances.terminate(before.id)
                }
            }
            items.append([
                XMLElement("instanceId", before.id), Self.state("currentState", after.state),
                Self.state("previousState", before.state),
            ])
        }
        return [XMLElement.set("instancesSet", items)]
    }

    func describeInstances(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        let ids = parameters.list("InstanceId")
        var instances = try await call { () async throws(SnaplabError) in try await lab.instances.list() }
        if !ids.isEmpty {
            for id in ids where !instances.contains(where: { $0.id == id }) {
                _ = try await call { () async throws(SnaplabError) in try await lab.instances.get(id) }
            }
            instances = instances.filter { ids.contains($0.id) }
        }
        var volumes: [String: [Volume]] = [:]
        for volume in try await call({ () async throws(SnaplabError) in try await lab.volumes.list() }) {
            if let owner = volume.instanceId { volumes[owner, default: []].append(volume) }
        }
        volumes = volumes.mapValues { $0.sorted { ($0.device ?? "") < ($1.device ?? "") } }
        instances = try EC2Filtering.apply(instances, parameters.filters, tags: \.tags) { instance, name in
            switch name {
            case "instance-id": [instance.id]
            case "instance-state-name": [instance.state.rawValue]
            case "instance-state-code": [String(Self.code(instance.state))]
            case "image-id": instance.imageId.map { [$0] } ?? []
            case "block-device-mapping.volume-id": (volumes[instance.id] ?? []).map(\.id)
            case "availability-zone": [Self.zone]
            default: nil
            }
        }
        let page = try EC2Filtering.page(instances, parameters: parameters)
        var reservations: [[XMLElement]] = []
        for instance in page.items {
            let item = Self.instanceFields(instance, attached: volumes[instance.id] ?? [], launchIndex: 0)
            reservations.append([
                XMLElement("reservationId", "r-\(instance.id.dropFirst(2))"),
                XMLElement("ownerId", Self.owner), XMLElement.set("groupSet", []),
                XMLElement.set("instancesSet", [item]),
            ])
        }
        return [XMLElement.set("reservationSet", reservations)] + XMLElement.optional("nextToken", page.nextToken)
    }

    /// An instance's `item` in a reservation; `attached`: its volumes in device order.
    static func instanceFields(_ instance: Instance, attached volumes: [Volume], launchIndex: Int) -> [XMLElement] {
        var fields = [
            XMLElement("instanceId", instance.id), XMLElement("imageId", instance.imageId ?? ""),
            Self.state("instanceState", instance.state), XMLElement("privateDnsName", ""), XMLElement("dnsName", ""),
            XMLElement("reason", instance.stateReason ?? ""), XMLElement("amiLaunchIndex", String(launchIndex)),
            XMLElement("instanceType", "snaplab.\(instance.memoryMiB)m.\(instance.vcpus)c"),
            XMLElement("launchTime", XMLElement.timestamp(instance.launchedAt ?? instance.createdAt)),
            XMLElement("placement", [XMLElement("availabilityZone", Self.zone), XMLElement("tenancy", "default")]),
            XMLElement("monitoring", [XMLElement("state", "disabled")]), XMLElement("architecture", "x86_64"),
            XMLElement("rootDeviceType", "ebs"), XMLElement("rootDeviceName", "/dev/vda"),
            XMLElement.set(
                "blockDeviceMapping",
                volumes.map { volume in
                    [
                        XMLElement("deviceName", "/dev/\(volume.device ?? "")"),
                        XMLElement(
                            "ebs",
                            [
                                XMLElement("volumeId", volume.id), XMLElement("status", "attached"),
                                XMLElement("attachTime", XMLElement.timestamp(volume.createdAt)),
                                XMLElement("deleteOnTermination", XMLElement.bool(volume.deleteOnTermination)),
                            ]),
                    ]
                }),
            XMLElement("virtualizationType", "hvm"), XMLElement("hypervisor", "xen"),
        ]
        if !instance.tags.isEmpty { fields.append(XMLElement.tagSet(instance.tags)) }
        return fields
    }

    /// EC2's state codes.
    static func code(_ state: InstanceState) -> Int {
        switch state {
        case .pending: 0
        case .running: 16
        case .shuttingDown: 32
        case .terminated: 48
        case .stopping: 64
        case .stopped: 80
        }
    }

    static func state(_ name: String, _ state: InstanceState) -> XMLElement {
        XMLElement(name, [XMLElement("code", String(code(state))), XMLElement("name", state.rawValue)])
    }

    /// `snaplab.<memory>m.<vcpus>c` (what DescribeInstances reports) picks memory and vcpus; other types keep
    /// the image's.
    static func instanceShape(_ type: String) -> (memory: Int, vcpus: Int)? {
        let parts = type.split(separator: ".")
        guard parts.count == 3, parts[0] == "snaplab", parts[1].hasSuffix("m"), parts[2].hasSuffix("c"),
            let memory = Int(parts[1].dropLast()), let vcpus = Int(parts[2].dropLast())
        else { return nil }
        return (memory, vcpus)
    }
}
