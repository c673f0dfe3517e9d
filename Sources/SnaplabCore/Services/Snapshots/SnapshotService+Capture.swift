import Faults
import Foundation
import SnapshotStore

/// What a capture established for one volume: where to read it from, and what it read against.
struct CapturedVolume: Sendable {
    enum Source: Sendable {
        /// A running instance's pull-mode backup job, exported at `endpoint` as `device`.
        case backup(domain: String, endpoint: BackupEndpoint, device: String)
        /// A volume no running instance uses: its qcow2 file, served by qemu-nbd.
        case stopped(file: String)
        /// Such a volume on a host on another machine: downloaded whole through libvirt first (no dirty bitmap:
        /// it is read whole, and the store keeps only the chunks it lacks).
        case remoteStopped(pool: String, poolVolume: String)
    }

    var volume: Volume
    var source: Source
    /// The checkpoint / bitmap the copy is incremental from (nil: full copy).
    var base: String?
    var consistency: ConsistencyLevel
    var consistencyNote: String?
}

/// Options of a snapshot request.
public struct SnapshotOptions: Sendable {
    public var description: String?
    public var tags: [String: String]
    /// Freeze the guest's filesystem through the agent (fall back to crash-consistent, recorded, if it cannot).
    public var freeze: Bool

    public init(description: String? = nil, tags: [String: String] = [:], freeze: Bool = true) {
        self.description = description
        self.tags = tags
        self.freeze = freeze
    }
}

extension SnapshotService {
    /// Captures the volumes of a running instance at one instant: freeze their filesystems (if asked and the
    /// agent answers), start one backup job over their disks with a checkpoint named `checkpoint`, thaw.
    func captureRunning(
        _ volumes: [Volume], instance: Instance, checkpoint: String, options: SnapshotOptions,
        hypervisor: Hypervisor
    ) async throws(SnaplabError) -> [CapturedVolume] {
        let domain = instance.domainName
        let allDevices = try await catalog.volumes(attachedTo: instance.id).compactMap(\.device)
        let knownCheckpoints = Set(try await hypervisor.checkpointNames(domain: domain))
        var bases: [String: String] = [:]
        for volume in volumes {
            if let base = try await incrementalBase(of: volume), knownCheckpoints.contains(base) {
                bases[volume.id] = base
            }
        }
        let host = try await catalog.host(named: instance.host)
        // On this machine: a socket and scratch files in a directory of the lab's. A host on another machine
        // serves the export on TCP at the address the controller reaches its libvirt at, with the scratch files
        // in its pool's directory (libvirt creates them there); the copy
        // reads it over the network.
        let directory: URL? = host.isOnThisMachine ? try makeExportDirectory(checkpoint) : nil
        let endpoint: BackupEndpoint =
            if let directory {
                .unix(directory.appendingPathComponent("nbd.sock").path)
            } else {
                .tcp(host: try Self.address(of: host), port: Int.random(in: 10_900..<11_900))
            }
        let backup = BackupXML(
            endpoint: endpoint,
            disks: volumes.map { volume in
                BackupXML.Disk(
                    device: volume.device ?? "",
                    scratchPath: (directory?.path ?? host.poolPath)
                        + "/scratch-\(checkpoint)-\(volume.device ?? "").qcow2",
                    incrementalFrom: bases[volume.id])
            },
            allDevices: allDevices)
        let checkpointXML = CheckpointXML(
            name: checkpoint, devices: volumes.compactMap(\.device),
            allDevices: allDevices, creationTime: nil)

        var levels: [String: (ConsistencyLevel, String?)] = [:]
        var frozen = false
        // From the freeze to the thaw, a Ctrl-C waits (the function ends right after the thaw).
        InterruptShield.hold()
        defer { InterruptShield.release() }
        if options.freeze {
            do throws(SnaplabError) {
                let filesystems = try await hypervisor.filesystems(domain: domain)
                var mountpoints: [String] = []
                for volume in volumes {
                    let mine = filesystems.filter { $0.disks.contains(volume.device ?? "") }.map(\.mountpoint)
                    if mine.isEmpty {
                        levels[volume.id] = (.crash, "no mounted filesystem on \(volume.device ?? "?") in the guest")
                    } else {
                        mountpoints += mine
                        levels[volume.id] = (.fsFrozen, "froze \(mine.joined(separator: ", ")) through the guest agent")
                    }
                }
                if !mountpoints.isEmpty {
                    do throws(SnaplabError) {
                        _ = try await hypervisor.freeze(domain: domain, mountpoints: mountpoints)
                        frozen = true
                        FaultPoint.reach(.captureAfterFreeze)
                    } catch {
                        // The agent may have frozen before it failed (a timeout): never leave the guest frozen.
                        await logger.bestEffort("hypervisor.thaw") { try await hypervisor.thaw(domain: domain) }
                        throw error
                    }
                }
            } catch {
                for volume in volumes {
                    levels[volume.id] = (.crash, "the guest agent could not freeze: \(error.message)")
                }
            }
        } else {
            for volume in volumes { levels[volume.id] = (.crash, "freezing was not asked for") }
        }
        do throws(SnaplabError) {
            try await hypervisor.beginBackup(domain: domain, backup: backup, checkpoint: checkpointXML)
        } catch {
            if frozen { await logger.bestEffort("thawing \(domain)") { try await hypervisor.thaw(domain: domain) } }
            if let directory { logger.bestEffort("removeItem") { try FileManager.default.removeItem(at: directory) } }
            throw error
        }
        FaultPoint.reach(.captureAfterBackupBegin)
        var thawProblem: String?
        if frozen {
            // The capture already happened; a failing thaw hook must not lose it (qemu-ga thaws before it runs
            // the hook), but it is worth saying.
            do throws(SnaplabError) {
                try await hypervisor.thaw(domain: domain)
            } catch {
                thawProblem = "thaw reported: \(error.message)"
            }
            let hooks = await FreezeHookStatus.read(from: GuestAgent(hypervisor: hypervisor, domain: domain))
            for volume in volumes {
                guard let hooks, let (level, note) = levels[volume.id], level == .fsFrozen else { continue }
                let noted = [note, hooks.summary].compactMap { $0 }.joined(separator: "; ")
                levels[volume.id] = (hooks.allSucceeded ? .appConsistent : .fsFrozen, noted)
            }
        }
        return volumes.map { volume in
            var (level, note) = levels[volume.id] ?? (.crash, nil)
            if let thawProblem { note = [note, thawProblem].compactMap { $0 }.joined(separator: "; ") }
            return CapturedVolume(
                volume: volume, source: .backup(domain: domain, endpoint: endpoint, device: volume.device ?? ""),
                base: bases[volume.id], consistency: level, consistencyNote: note)
        }
    }

    /// Captures volumes no running instance uses: a new dirty bitmap in each qcow2 marks the instant; the
    /// previous snapshot's bitmap, when still there and consistent, says what changed since.
    func captureStopped(_ volumes: [Volume], checkpoint: String, instance: Instance?) async throws(SnaplabError)
        -> [CapturedVolume]
    {
        var captured: [CapturedVolume] = []
        for volume in volumes {
            let forced =
                instance?.stateReason?.contains("powered off") == true
                || instance?.stateReason?.contains("forced") == true
            let host = try await catalog.host(named: volume.host)
            guard host.isOnThisMachine else {
                captured.append(
                    CapturedVolume(
                        volume: volume, source: .remoteStopped(pool: host.poolName, poolVolume: volume.poolVolume),
                        base: nil, consistency: forced ? .crash : .fsFrozen,
                        consistencyNote: "not in use by a running instance; read whole from host \(host.name)"))
                continue
            }
            var base: String?
            do throws(SnaplabError) {
                if let candidate = try await incrementalBase(of: volume) {
                    let bitmaps = try await QemuImg.bitmaps(of: volume.path)
                    if bitmaps.contains(where: { $0.name == candidate && $0.isConsistent }) { base = candidate }
                }
                try await QemuImg.addBitmap(checkpoint, to: volume.path)
            } catch {
                // The bitmaps already added mark an instant no snapshot will use.
                for done in captured { await tracking.removeBitmapIfPresent(checkpoint, from: done.volume.path) }
                throw error
            }
            captured.append(
                CapturedVolume(
                    volume: volume, source: .stopped(file: volume.path), base: base,
                    consistency: forced ? .crash : .fsFrozen,
                    consistencyNote: forced
                        ? "its instance was powered off without a clean shutdown"
                        : "not in use by a running instance"))
        }
        return captured
    }

    /// The checkpoint a volume's next copy can be incremental from: the one of its last completed snapshot,
    /// while that snapshot's manifest is still in the store.
    func incrementalBase(of volume: Volume) async throws(SnaplabError) -> String? {
        guard let base = volume.cbtBase, let parentId = volume.lastSnapshotId,
            let parent = try await catalog.findSnapshot(parentId), parent.state == .completed
        else { return nil }
        guard try await store.hasManifest(parentId) else { return nil }
        return base
    }

    /// The address a host's libvirt is reached at (`qemu+tcp://ADDRESS/system`): its exports listen there.
    static func address(of host: Host) throws(SnaplabError) -> String {
        guard let address = URLComponents(string: host.uri)?.host, !address.isEmpty else {
            throw SnaplabError(
                .invalidArgument, "host \(host.name)'s URI \(host.uri) names no address to read exports at")
        }
        return address
    }

    /// A directory qemu (running as another user) can create its socket and scratch files in.
    func makeExportDirectory(_ name: String) throws(SnaplabError) -> URL {
        let directory = paths.exports.appendingPathComponent(name)
        try Directories.create(paths.exports)
        try Directories.create(directory)
        do {
            try FileManager.default.setAttributes([.posixPermissions: 0o1777], ofItemAtPath: directory.path)
        } catch {
            throw SnaplabError(.io, "cannot open \(directory.path) to the qemu user", cause: error)
        }
        return directory
    }
}
