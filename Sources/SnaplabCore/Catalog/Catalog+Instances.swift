import Foundation
import GRDB

extension Catalog {
    public func instance(_ id: String) async throws(SnaplabError) -> Instance {
        try ResourceID.validate(id, as: .instance)
        let instance = try await read { db in try Instance.fetchOne(db, key: id) }
        guard let instance else {
            throw SnaplabError.notFound("instance", id, hint: "`snaplab instance list` shows the instances")
        }
        return instance
    }

    public func instances() async throws(SnaplabError) -> [Instance] {
        try await read { db in try Instance.order(Instance.Columns.createdAt, Instance.Columns.id).fetchAll(db) }
    }

    public func update(_ instance: Instance) async throws(SnaplabError) {
        try await write { db in try instance.update(db) }
    }

    /// Records a new instance together with its volume attachments, atomically: either every volume was
    /// available and is now in use by the instance, or nothing changed.
    public func insert(_ instance: Instance, attaching attachments: [VolumeAttachment]) async throws(SnaplabError) {
        try await write { db in
            try instance.insert(db)
            for attachment in attachments {
                guard var volume = try Volume.fetchOne(db, key: attachment.volumeId) else {
                    throw SnaplabError.notFound(
                        "volume", attachment.volumeId,
                        hint: "`snaplab volume list` shows the volumes")
                }
                guard volume.state == .available else {
                    let owner = volume.instanceId.map { " by \($0)" } ?? ""
                    throw SnaplabError(
                        .invalidState,
                        "volume \(volume.id) is \(volume.state.rawValue)\(owner); stop using it there first")
                }
                try volume.move(to: .inUse)
                volume.instanceId = instance.id
                volume.device = attachment.device
                volume.deleteOnTermination = attachment.deleteOnTermination
                try volume.update(db)
            }
        }
    }

    /// The one place instance state changes: refuses transitions the state machine does not allow.
    @discardableResult
    public func transitionInstance(
        _ id: String, to next: InstanceState, reason: String? = nil,
        launchedAt: Date? = nil
    ) async throws(SnaplabError) -> Instance {
        try await write { db in
            guard var instance = try Instance.fetchOne(db, key: id) else {
                throw SnaplabError.notFound("instance", id, hint: "`snaplab instance list` shows the instances")
            }
            // Two recorders of the same end (a stopper and a refresher) both succeed.
            if instance.state == next { return instance }
            try instance.move(to: next)
            instance.stateReason = reason
            if let launchedAt { instance.launchedAt = launchedAt }
            try instance.update(db)
            return instance
        }
    }

    /// Marks an instance terminated and releases its volumes: the ones marked delete-on-termination are
    /// returned (still `in-use`, now `deleting`) for the caller to remove; the others become available.
    public func finishTermination(_ id: String) async throws(SnaplabError) -> [Volume] {
        try await write { db in
            guard var instance = try Instance.fetchOne(db, key: id) else {
                throw SnaplabError.notFound("instance", id, hint: "`snaplab instance list` shows the instances")
            }
            try instance.move(to: .terminated)
            try instance.update(db)
            var doomed: [Volume] = []
            for var volume in try Volume.filter(Volume.Columns.instanceId == id).fetchAll(db) {
                if volume.deleteOnTermination {
                    try volume.move(to: .deleting)
                    doomed.append(volume)
                } else {
                    try volume.move(to: .available)
                    volume.instanceId = nil
                    volume.device = nil
                }
                try volume.update(db)
            }
            return doomed
        }
    }
}

/// A volume to attach to an instance at launch.
public struct VolumeAttachment: Sendable, Equatable {
    public var volumeId: String
    public var device: String
    public var deleteOnTermination: Bool

    public init(volumeId: String, device: String, deleteOnTermination: Bool) {
        self.volumeId = volumeId
        self.device = device
        self.deleteOnTermination = deleteOnTermination
    }
}

extension Catalog {
    /// Undoes `insert(_:attaching:)` for a launch that never started.
    public func abandonLaunch(_ id: String) async throws(SnaplabError) {
        try await write { db in
            for var volume in try Volume.filter(Volume.Columns.instanceId == id).fetchAll(db) {
                try volume.move(to: .available)
                volume.instanceId = nil
                volume.device = nil
                volume.deleteOnTermination = false
                try volume.update(db)
            }
            _ = try Instance.deleteOne(db, key: id)
        }
    }

    /// Overrides delete-on-termination of an instance's data volumes and/or its boot volume (nil: keep as is).
    public func setDeleteOnTermination(instance id: String, data: Bool?, boot: Bool?) async throws(SnaplabError) {
        try await write { db in
            for var volume in try Volume.filter(Volume.Columns.instanceId == id).fetchAll(db) {
                let wanted = volume.role == .boot ? boot : data
                guard let wanted else { continue }
                volume.deleteOnTermination = wanted
                try volume.update(db)
            }
        }
    }
}

extension Catalog {
    /// Marks an available volume attached to an instance as `device`.
    public func attach(_ volumeId: String, to instanceId: String, device: String) async throws(SnaplabError) {
        try await write { db in
            guard var volume = try Volume.fetchOne(db, key: volumeId) else {
                throw SnaplabError.notFound("volume", volumeId, hint: "`snaplab volume list` shows the volumes")
            }
            guard volume.state == .available else {
                throw SnaplabError(
                    .invalidState,
                    "volume \(volumeId) is \(volume.state.rawValue); only an available volume can be attached",
                    subject: volumeId, detail: volume.state == .inUse ? .inUse : nil)
            }
            try volume.move(to: .inUse)
            volume.instanceId = instanceId
            volume.device = device
            volume.deleteOnTermination = false
            try volume.update(db)
        }
    }

    public func detach(_ volumeId: String) async throws(SnaplabError) {
        try await write { db in
            guard var volume = try Volume.fetchOne(db, key: volumeId) else { return }
            try volume.move(to: .available)
            volume.instanceId = nil
            volume.device = nil
            volume.deleteOnTermination = false
            try volume.update(db)
        }
    }
}

extension Catalog {
    /// Takes an instance for evacuation: moves it to `shutting-down` (with why) unless it is there already or
    /// terminated. One write transaction, so of two evacuations only one gets it.
    public func claimForEvacuation(_ id: String, reason: String) async throws(SnaplabError) -> Bool {
        try await write { db in
            guard var instance = try Instance.fetchOne(db, key: id),
                ![.shuttingDown, .terminated].contains(instance.state)
            else { return false }
            try instance.move(to: .shuttingDown)
            instance.stateReason = reason
            try instance.update(db)
            return true
        }
    }

    /// Ends an evacuated instance: terminated with why; its volumes (on the lost host) detached, tagged
    /// `snaplab:stale` with `stale`, and left as they are there, to be deleted once the host is back.
    public func finishEvacuation(_ id: String, reason: String, stale: String) async throws(SnaplabError) -> [Volume] {
        try await write { db in
            guard var instance = try Instance.fetchOne(db, key: id) else {
                throw SnaplabError.notFound("instance", id, hint: "`snaplab instance list` shows the instances")
            }
            try instance.move(to: .terminated)
            instance.stateReason = reason
            try instance.update(db)
            var left: [Volume] = []
            for var volume in try Volume.filter(Volume.Columns.instanceId == id).fetchAll(db) {
                try volume.move(to: .available)
                volume.instanceId = nil
                volume.device = nil
                volume.tags["snaplab:stale"] = stale
                try volume.update(db)
                left.append(volume)
            }
            return left
        }
    }
}
