import Foundation

/// Index entries in hash order, one at a time: what merges read.
protocol IndexEntryStream {
    mutating func next() throws(StoreError) -> IndexEntry?
}

/// Entries already in memory, sorted.
struct ArrayEntryStream: IndexEntryStream {
    private let entries: [IndexEntry]
    private var position = 0

    init(_ entries: [IndexEntry]) {
        self.entries = entries
    }

    mutating func next() throws(StoreError) -> IndexEntry? {
        guard position < entries.count else { return nil }
        defer { position += 1 }
        return entries[position]
    }
}

/// Fixed-size entries read block by block from an object or a file, with `read(offset, buffer)`.
struct BlockEntryStream: IndexEntryStream {
    static let blockEntries = 4096

    private let source: String
    private let read: (UInt64, UnsafeMutableRawBufferPointer) throws(StoreError) -> Void
    private let start: UInt64
    private let count: Int
    private var block: [UInt8] = []
    private var blockFirst = 0
    private var blockCount = 0
    private var position = 0
    private var previous: ChunkHash?

    /// `count` entries starting at byte `start` of the source.
    init(
        source: String, start: UInt64, count: Int,
        read: @escaping (UInt64, UnsafeMutableRawBufferPointer) throws(StoreError) -> Void
    ) {
        self.source = source
        self.start = start
        self.count = count
        self.read = read
    }

    mutating func next() throws(StoreError) -> IndexEntry? {
        guard position < count else { return nil }
        if position >= blockFirst + blockCount {
            blockFirst = position
            blockCount = min(Self.blockEntries, count - position)
            if block.count < blockCount * IndexEntry.size {
                block = [UInt8](repeating: 0, count: blockCount * IndexEntry.size)
            }
            let length = blockCount * IndexEntry.size
            let offset = start + UInt64(position) * UInt64(IndexEntry.size)
            try block.withMutableBytes { (bytes) throws(StoreError) in
                try read(offset, UnsafeMutableRawBufferPointer(rebasing: bytes[0..<length]))
            }
        }
        let entry = try block.withBytes { (bytes) throws(StoreError) in
            try IndexEntry(reading: bytes, at: (position - blockFirst) * IndexEntry.size, source: source)
        }
        if let previous, !(previous < entry.hash) {
            throw StoreError(.corrupt, "\(source) is not sorted by hash")
        }
        previous = entry.hash
        position += 1
        return entry
    }
}

/// Merges sorted streams into one sorted stream without duplicates (the first stream's entry wins).
struct MergedEntryStream: IndexEntryStream {
    private var streams: [any IndexEntryStream]
    /// A binary min-heap of (stream number, its current entry).
    private var heap: [(Int, IndexEntry)] = []
    private var started = false
    private var last: ChunkHash?

    init(_ streams: [any IndexEntryStream]) {
        self.streams = streams
    }

    mutating func next() throws(StoreError) -> IndexEntry? {
        if !started {
            started = true
            for number in streams.indices {
                if let entry = try streams[number].next() { push((number, entry)) }
            }
        }
        while let (number, entry) = pop() {
            if let following = try streams[number].next() { push((number, following)) }
            if entry.hash == last { continue }
            last = entry.hash
            return entry
        }
        return nil
    }

    private static func precedes(_ a: (Int, IndexEntry), _ b: (Int, IndexEntry)) -> Bool {
        a.1.hash < b.1.hash || (a.1.hash == b.1.hash && a.0 < b.0)
    }

    private mutating func push(_ element: (Int, IndexEntry)) {
        heap.append(element)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() -> (Int, IndexEntry)? {
        guard !heap.isEmpty else { return nil }
        heap.swapAt(0, heap.count - 1)
        let top = heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
            if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
            if smallest == parent { break }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}
