import Foundation

extension InstanceService {
    /// Attaches an available data volume to an instance (running: hot-plugged; stopped: at its next start).
    public func attach(_ volumeId: String, to instanceId: String, device: String? = nil)
        async throws(SnaplabError) -> Volume
    {
        let volume = try await catalog.volume(volumeId)
        let instance = try await states.refreshed(instanceId)
        guard [.running, .stopped].contains(instance.state) else {
            throw SnaplabError(
                .invalidState,
                "instance \(instanceId) is \(instance.state.rawValue); attach to a running or stopped instance",
                subject: instanceId)
        }
        guard volume.role == .data else {
            throw SnaplabError(
                .invalidArgument, "volume \(volumeId) is a boot volume; only data volumes can be attached")
        }
        guard volume.host == instance.host else {
            throw SnaplabError(
                .invalidArgument, "volume \(volumeId) is on host \(volume.host), the instance on \(instance.host)")
        }
        let attached = try await catalog.volumes(attachedTo: instanceId)
        let used = Set(attached.compactMap(\.device))
        let target =
            try device.map(Self.deviceName)
            ?? (0..<LaunchRequest.maximumDataVolumes).map(LaunchRequest.dataDevice)
            .first { !used.contains($0) }
        guard let target, !used.contains(target) else {
            throw SnaplabError(
                .invalidArgument,
                "device \(device ?? "?") is taken on \(instanceId); attached: \(used.sorted().joined(separator: ", "))")
        }
        try await copies.checkNotCopying([volumeId], action: "attached")
        if volume.lazy != nil { try await lazy.launcher.ensureRunning() }
        try await catalog.attach(volumeId, to: instanceId, device: target)
        let xml = DomainXML.diskXML(
            DomainXML.Disk(path: volume.path, device: target, serial: volume.id, stopOnError: volume.lazy != nil))
        let running = instance.state == .running
        do throws(SnaplabError) {
            try await hosts.hypervisor(named: instance.host).attachDisk(
                domain: instance.domainName, xml: xml, live: running)
        } catch {
            await logger.bestEffort("catalog.detach") { try await catalog.detach(volumeId) }
            throw error
        }
        return try await catalog.volume(volumeId)
    }

    /// Detaches a data volume (running: hot-unplugged once the guest lets go of it).
    public func detach(_ volumeId: String, from instanceId: String? = nil, force: Bool = false)
        async throws(SnaplabError) -> Volume
    {
        let volume = try await catalog.volume(volumeId)
        guard let owner = volume.instanceId, volume.state == .inUse else {
            throw SnaplabError(.invalidState, "volume \(volumeId) is \(volume.state.rawValue), not attached")
        }
        if let instanceId, instanceId != owner {
            throw SnaplabError(.invalidArgument, "volume \(volumeId) is attached to \(owner), not \(instanceId)")
        }
        guard volume.role == .data, let device = volume.device else {
            throw SnaplabError(
                .invalidState, "volume \(volumeId) is the boot volume of \(owner); terminate the instance instead")
        }
        try await copies.checkNotCopying([volumeId], action: "detached")
        let instance = try await states.refreshed(owner)
        let xml = DomainXML.diskXML(DomainXML.Disk(path: volume.path, device: device, serial: volume.id))
        if instance.state != .terminated {
            try await hosts.hypervisor(named: instance.host).detachDisk(
                domain: instance.domainName, xml: xml, device: device, live: instance.state == .running, force: force)
        }
        try await catalog.detach(volumeId)
        return try await catalog.volume(volumeId)
    }

    static func deviceName(_ text: String) throws(SnaplabError) -> String {
        let name = text.hasPrefix("/dev/") ? String(text.dropFirst(5)) : text
        guard name.count == 3, name.hasPrefix("vd"), let letter = name.last, letter >= "b", letter <= "y" else {
            // vdz is the cloud-init seed's.
            throw SnaplabError(.invalidArgument, "device '\(text)' is not a data disk name (vdb … vdy, or /dev/vdb …)")
        }
        return name
    }
}
