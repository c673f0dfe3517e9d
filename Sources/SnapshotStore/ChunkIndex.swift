import Synchronization

/// Which chunks the store holds and where: loaded from the index objects, extended as packs are written.
/// Thread-safe; looked up from the hashing threads to skip chunks already stored.
public final class ChunkIndex: Sendable {
    private let entries = Mutex<[ChunkHash: ChunkLocation]>([:])

    public init() {}

    public func location(of hash: ChunkHash) -> ChunkLocation? {
        entries.withLock { $0[hash] }
    }

    public func contains(_ hash: ChunkHash) -> Bool {
        entries.withLock { $0[hash] != nil }
    }

    /// Adds entries; an existing one (the same chunk stored twice) keeps its first location.
    func add(_ new: [(ChunkHash, ChunkLocation)]) {
        entries.withLock { table in
            for (hash, location) in new where table[hash] == nil {
                table[hash] = location
            }
        }
    }

    func replaceAll(_ new: [(ChunkHash, ChunkLocation)]) {
        var table: [ChunkHash: ChunkLocation] = [:]
        table.reserveCapacity(new.count)
        for (hash, location) in new where table[hash] == nil {
            table[hash] = location
        }
        entries.withLock { $0 = table }
    }

    public var count: Int { entries.withLock { $0.count } }

    func snapshot() -> [ChunkHash: ChunkLocation] {
        entries.withLock { $0 }
    }
}
