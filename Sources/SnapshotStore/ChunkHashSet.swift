/// A growing set of chunk hashes for garbage collection's mark: open addressing placed by the hash's first 64
/// bits (a SHA-256 is already uniform, so nothing is hashed again). Marking 10 000 snapshots inserts millions
/// of mostly repeated hashes; `Set<ChunkHash>` spent most of the mark hashing them with SipHash.
struct ChunkHashSet: Sendable {
    private var slots: [ChunkHash]
    private var occupied: [Bool]
    private var mask: Int
    private(set) var count = 0

    init(minimumCapacity: Int = 1024) {
        var capacity = 1024
        while capacity < minimumCapacity * 2 { capacity <<= 1 }
        slots = Array(repeating: ChunkHash.zero, count: capacity)
        occupied = Array(repeating: false, count: capacity)
        mask = capacity - 1
    }

    func contains(_ hash: ChunkHash) -> Bool {
        var slot = Int(truncatingIfNeeded: hash.prefix) & mask
        while occupied[slot] {
            if slots[slot] == hash { return true }
            slot = (slot + 1) & mask
        }
        return false
    }

    mutating func insert(_ hash: ChunkHash) {
        var slot = Int(truncatingIfNeeded: hash.prefix) & mask
        while occupied[slot] {
            if slots[slot] == hash { return }
            slot = (slot + 1) & mask
        }
        slots[slot] = hash
        occupied[slot] = true
        count += 1
        // At most half full, so probes stay short.
        if count * 2 > slots.count { grow() }
    }

    mutating func formUnion(_ hashes: [ChunkHash]) {
        for hash in hashes { insert(hash) }
    }

    private mutating func grow() {
        var larger = ChunkHashSet(minimumCapacity: slots.count)
        for slot in slots.indices where occupied[slot] { larger.insert(slots[slot]) }
        self = larger
    }
}
