import GRDB

extension Catalog {
    public func insert(_ volume: Volume) async throws(SnaplabError) {
        try await write { db in try volume.insert(db) }
    }

    public func update(_ volume: Volume) async throws(SnaplabError) {
        try await write { db in try volume.update(db) }
    }

    public func volume(_ id: String) async throws(SnaplabError) -> Volume {
        try ResourceID.validate(id, as: .volume)
        let volume = try await read { db in try Volume.fetchOne(db, key: id) }
        guard let volume else {
            throw SnaplabError.notFound("volume", id, hint: "`snaplab volume list` shows the volumes")
        }
        return volume
    }

    public func volumes() async throws(SnaplabError) -> [Volume] {
        try await read { db in try Volume.order(Volume.Columns.createdAt, Volume.Columns.id).fetchAll(db) }
    }

    public func volumes(attachedTo instanceId: String) async throws(SnaplabError) -> [Volume] {
        try await read { db in
            try Volume.filter(Volume.Columns.instanceId == instanceId).order(Column("device")).fetchAll(db)
        }
    }

    public func deleteVolume(_ id: String) async throws(SnaplabError) {
        _ = try await write { db in try Volume.deleteOne(db, key: id) }
    }

    /// Moves a volume between states, but only from one of `expected`; the row is re-read inside the write so
    /// two controllers cannot both win.
    @discardableResult
    public func transitionVolume(_ id: String, from expected: Set<VolumeState>, to next: VolumeState)
        async throws(SnaplabError) -> Volume
    {
        try await write { db in
            guard var volume = try Volume.fetchOne(db, key: id) else {
                throw SnaplabError.notFound("volume", id, hint: "`snaplab volume list` shows the volumes")
            }
            guard expected.contains(volume.state) else {
                let attached = volume.instanceId.map { " (attached to \($0))" } ?? ""
                throw SnaplabError(
                    .invalidState,
                    "volume \(id) is \(volume.state.rawValue)\(attached) and cannot become \(next.rawValue)")
            }
            try volume.move(to: next)
            try volume.update(db)
            return volume
        }
    }
}
