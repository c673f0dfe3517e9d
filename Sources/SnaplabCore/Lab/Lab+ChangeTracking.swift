import Foundation

extension Lab {
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
                try? await hypervisor.deleteCheckpoint(domain: instance.domainName, checkpoint: name, metadataOnly: false)
            } else {
                for disk in attached { await removeBitmapIfPresent(name, from: disk.path) }
                try? await hypervisor.deleteCheckpoint(domain: instance.domainName, checkpoint: name, metadataOnly: true)
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
            try? await hypervisor.deleteCheckpoint(domain: domain, checkpoint: name, metadataOnly: false)
        case .stopped(let file):
            await removeBitmapIfPresent(name, from: file)
        }
    }

    func removeBitmapIfPresent(_ name: String, from file: String) async {
        guard let bitmaps = try? await QemuImg.bitmaps(of: file), bitmaps.contains(where: { $0.name == name }) else {
            return
        }
        try? await QemuImg.removeBitmap(name, from: file)
    }

    func volumeIsInRunningUse(_ volume: Volume) async throws -> Bool {
        guard let instanceId = volume.instanceId else { return false }
        return try await refreshedInstance(instanceId).state != .stopped
    }
}
