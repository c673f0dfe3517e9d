import Foundation
import Logging

/// Changed-block tracking: the checkpoints of running domains and the qcow2 bitmaps of stopped volumes that
/// let a volume's next snapshot read only what changed.
final class ChangeTracking: Sendable {
    let logger = Logger(label: "snaplab.change-tracking")
    let catalog: Catalog
    let states: InstanceStates

    init(catalog: Catalog, states: InstanceStates) {
        self.catalog = catalog
        self.states = states
    }

    /// Drops a checkpoint / bitmap that no volume's next snapshot needs any more.
    func retireCheckpoint(_ name: String, volumeId: String, hypervisor: Hypervisor) async {
        guard let volume = try? await catalog.volume(volumeId) else { return }
        if let instanceId = volume.instanceId, let instance = try? await catalog.instance(instanceId),
            let checkpoints = try? await hypervisor.checkpointNames(domain: instance.domainName),
            checkpoints.contains(name)
        {
            let attached = (try? await catalog.volumes(attachedTo: instanceId)) ?? []
            guard !attached.contains(where: { $0.cbtBase == name }) else { return }
            let running = (try? await hypervisor.domainState(name: instance.domainName)) == .running
            if running {
                await logger.bestEffort("hypervisor.deleteCheckpoint") {
                    try await hypervisor.deleteCheckpoint(
                        domain: instance.domainName, checkpoint: name, metadataOnly: false)
                }
            } else {
                for disk in attached { await removeBitmapIfPresent(name, from: disk.path) }
                await logger.bestEffort("hypervisor.deleteCheckpoint") {
                    try await hypervisor.deleteCheckpoint(
                        domain: instance.domainName, checkpoint: name, metadataOnly: true)
                }
            }
            return
        }
        if (try? await volumeIsInRunningUse(volume)) == false {
            await removeBitmapIfPresent(name, from: volume.path)
        }
    }

    /// Undoes the checkpoint / bitmap of a capture whose copy failed.
    func discardCheckpoint(_ name: String, capture: CapturedVolume, hypervisor: Hypervisor) async {
        switch capture.source {
        case .backup(let domain, _, _):
            await logger.bestEffort("hypervisor.deleteCheckpoint") {
                try await hypervisor.deleteCheckpoint(domain: domain, checkpoint: name, metadataOnly: false)
            }
        case .stopped(let file):
            await removeBitmapIfPresent(name, from: file)
        case .remoteStopped:
            return
        }
    }

    func removeBitmapIfPresent(_ name: String, from file: String) async {
        guard let bitmaps = try? await QemuImg.bitmaps(of: file), bitmaps.contains(where: { $0.name == name }) else {
            return
        }
        await logger.bestEffort("QemuImg.removeBitmap") { try await QemuImg.removeBitmap(name, from: file) }
    }

    func volumeIsInRunningUse(_ volume: Volume) async throws -> Bool {
        guard let instanceId = volume.instanceId else { return false }
        return try await states.refreshed(instanceId).state != .stopped
    }

    /// Tells a freshly defined domain about the bitmaps its volumes already carry from earlier snapshots, so
    /// their next snapshot while running can be incremental.
    func adopt(instance: Instance, hypervisor: Hypervisor) async {
        let attached = (try? await catalog.volumes(attachedTo: instance.id)) ?? []
        let allDevices = attached.compactMap(\.device)
        var devicesByBase: [String: [String]] = [:]
        for volume in attached {
            guard let base = volume.cbtBase, let device = volume.device,
                let bitmaps = try? await QemuImg.bitmaps(of: volume.path),
                bitmaps.contains(where: { $0.name == base && $0.isConsistent })
            else { continue }
            devicesByBase[base, default: []].append(device)
        }
        for (base, devices) in devicesByBase {
            await redefineCheckpoint(
                base, devices: devices, allDevices: allDevices, of: instance, hypervisor: hypervisor)
        }
    }

    /// Records in a domain a checkpoint whose bitmaps its disks already carry (made while it was off).
    func redefineCheckpoint(
        _ name: String, devices: [String], allDevices: [String], of instance: Instance, hypervisor: Hypervisor
    ) async {
        await logger.bestEffort("redefining checkpoint \(name) of \(instance.id)") {
            try await hypervisor.redefineCheckpoint(
                domain: instance.domainName,
                checkpoint: CheckpointXML(
                    name: name, devices: devices, allDevices: allDevices,
                    creationTime: Int(Date().timeIntervalSince1970)))
        }
    }

    /// Ends the libvirt backup job the captures were exported through (a running instance's) and removes the
    /// directory of its NBD socket.
    func endBackupJob(of captures: [CapturedVolume], hypervisor: Hypervisor) async {
        guard case .backup(let domain, let endpoint, _)? = captures.first?.source else { return }
        await logger.bestEffort("hypervisor.endBackup") { try await hypervisor.endBackup(domain: domain) }
        guard case .unix(let socket) = endpoint else { return }
        logger.bestEffort("removeItem") {
            try FileManager.default.removeItem(atPath: (socket as NSString).deletingLastPathComponent)
        }
    }
}
