import Foundation
import GRDB

extension Catalog {
    public func insert(_ image: MachineImage) async throws(SnaplabError) {
        try await write { db in try image.insert(db) }
    }

    public func update(_ image: MachineImage) async throws(SnaplabError) {
        try await write { db in try image.update(db) }
    }

    public func image(_ id: String) async throws(SnaplabError) -> MachineImage {
        try ResourceID.validate(id, as: .image)
        let image = try await read { db in try MachineImage.fetchOne(db, key: id) }
        guard let image else {
            throw SnaplabError.notFound("image", id, hint: "`snaplab image list` shows the images")
        }
        return image
    }

    public func images() async throws(SnaplabError) -> [MachineImage] {
        try await read { db in
            try MachineImage.order(MachineImage.Columns.createdAt, MachineImage.Columns.id).fetchAll(db)
        }
    }

    /// The newest available image of that name.
    public func newestImage(named name: String) async throws(SnaplabError) -> MachineImage? {
        try await read { db in
            try MachineImage.filter(MachineImage.Columns.name == name)
                .filter(MachineImage.Columns.state == ImageState.available.rawValue)
                .order(MachineImage.Columns.createdAt.desc).fetchOne(db)
        }
    }

    /// Available images that need a snapshot (as boot snapshot or in a block-device mapping).
    public func images(using snapshotId: String) async throws(SnaplabError) -> [MachineImage] {
        try await images().filter { [.available, .pending].contains($0.state) && $0.snapshotIds.contains(snapshotId) }
    }

    public func base(snapshot snapshotId: String, host: String) async throws(SnaplabError) -> BaseVolume? {
        try await read { db in try BaseVolume.fetchOne(db, key: ["snapshotId": snapshotId, "host": host]) }
    }

    public func bases() async throws(SnaplabError) -> [BaseVolume] {
        try await read { db in try BaseVolume.fetchAll(db) }
    }

    /// Claims the hydration of a snapshot's base on a host: true if this caller must build it, false if it
    /// exists already (ready, or being built by someone else).
    public func claimBase(_ base: BaseVolume) async throws(SnaplabError) -> Bool {
        try await write { db in
            if try BaseVolume.fetchOne(db, key: ["snapshotId": base.snapshotId, "host": base.host]) != nil {
                return false
            }
            try base.insert(db)
            return true
        }
    }

    public func update(_ base: BaseVolume) async throws(SnaplabError) {
        try await write { db in try base.update(db) }
    }

    public func deleteBase(snapshot snapshotId: String, host: String) async throws(SnaplabError) {
        _ = try await write { db in try BaseVolume.deleteOne(db, key: ["snapshotId": snapshotId, "host": host]) }
    }

    /// How many volumes (overlays) sit on a snapshot's base.
    public func overlayCount(snapshot snapshotId: String) async throws(SnaplabError) -> Int {
        try await read { db in try Volume.filter(Column("baseSnapshotId") == snapshotId).fetchCount(db) }
    }
}
