import Foundation

/// Which chunks the store holds and where. Kept on local disk (`LocalIndexFile`, one `pread` per lookup) plus
/// the entries of index objects newer than that file, in memory up to `recentLimit`; past that they are merged
/// into a new file. So memory stays flat however large the store grows. Thread-safe: the hashing threads look
/// chunks up while a writer adds the ones it stored.
public final class ChunkIndex: @unchecked Sendable {
    // @unchecked: `file`, `recent` and `recentSources` are only touched with `lock` held; `maintenance`
    // serializes synchronizations and merges.
    static let mergeFanIn = 32

    /// Entries kept in memory before they are merged into a new local file.
    let recentLimit: Int

    private let directory: String
    private let ownsDirectory: Bool
    private let lock = NSLock()
    private let maintenance = NSLock()
    private var file: LocalIndexFile?
    private var recent: [ChunkHash: ChunkLocation] = [:]
    private var recentSources: Set<String> = []
    private var unreadable: [String: String] = [:]

    /// `directory` holds the local index files (shared by the processes using this store from this machine);
    /// nil: a temporary directory removed with this index.
    init(directory: URL?, recentLimit: Int = 64 * 1024) throws(StoreError) {
        self.recentLimit = recentLimit
        if let directory {
            self.directory = directory.path
            ownsDirectory = false
        } else {
            self.directory =
                FileManager.default.temporaryDirectory
                .appendingPathComponent("snaplab-index-\(UUID().uuidString)").path
            ownsDirectory = true
        }
        try DirectoryBackend.makeDirectory(self.directory)
    }

    deinit {
        if ownsDirectory { try? FileManager.default.removeItem(atPath: directory) }
    }

    public func location(of hash: ChunkHash) -> ChunkLocation? {
        lock.lock()
        let found = recent[hash]
        let file = self.file
        lock.unlock()
        if let found { return found }
        // A local read error reads as "not known": a writer then stores the chunk again, a reader reports it.
        return (try? file?.location(of: hash)) ?? nil
    }

    public func contains(_ hash: ChunkHash) -> Bool {
        location(of: hash) != nil
    }

    /// Index objects left out because they do not read whole, with why: the chunks they describe look absent
    /// (`snaplab store repair` rebuilds them from the packs).
    public var unreadableObjects: [String: String] {
        lock.lock()
        defer { lock.unlock() }
        return unreadable
    }

    /// How many chunks the index knows (a chunk stored twice may count twice until the next merge).
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return (file?.count ?? 0) + recent.count
    }

    // MARK: Keeping up with the store

    /// Brings the index up to date with the store's index objects, `keys` as listed now. Blocking.
    func synchronize(keys listed: Set<String>, io: ThreadIO) throws(StoreError) {
        maintenance.lock()
        defer { maintenance.unlock() }
        let (keys, decoded) = try readable(listed, io: io)
        if currentFile() == nil, let shared = adoptSharedFile(within: keys) { install(shared, replacingRecent: true) }
        let (file, sources, _) = state()
        let known = (file?.sources ?? []).union(sources)
        if known == keys { return }
        guard known.isSubset(of: keys) else {
            // Objects went away (garbage collection rewrote them): start from the store's objects alone.
            return install(try build(from: keys.sorted(), io: io), replacingRecent: true)
        }
        var large: [String] = []
        for key in keys.subtracting(known).sorted() {
            let entries: [IndexEntry]
            if let read = decoded[key] {
                entries = read
            } else {
                let (version, count) = try Self.header(of: key, io: io)
                if version == 2 && count > recentLimit {
                    large.append(key)
                    continue
                }
                entries = try Self.decode(key, io: io)
            }
            lock.lock()
            for entry in entries where recent[entry.hash] == nil { recent[entry.hash] = entry.location }
            recentSources.insert(key)
            lock.unlock()
        }
        if !large.isEmpty || state().recentCount > recentLimit { try mergeRecent(with: large, io: io) }
    }

    /// The entries of an index object this process just wrote (sorted by hash). Blocking when it merges.
    func add(_ entries: [IndexEntry], source key: String, io: ThreadIO) throws(StoreError) {
        lock.lock()
        for entry in entries where recent[entry.hash] == nil { recent[entry.hash] = entry.location }
        recentSources.insert(key)
        let full = recent.count > recentLimit
        lock.unlock()
        if full {
            maintenance.lock()
            defer { maintenance.unlock() }
            try mergeRecent(with: [], io: io)
        }
    }

    /// Writes a new local file: the current one, the recent entries and the listed (large) objects.
    private func mergeRecent(with objects: [String], io: ThreadIO) throws(StoreError) {
        lock.lock()
        let file = self.file
        let taken = recent.map { IndexEntry($0.key, $0.value) }.sorted { $0.hash < $1.hash }
        let takenSources = recentSources
        lock.unlock()
        var streams: [any IndexEntryStream] = []
        var expected = taken.count
        if let file {
            streams.append(file.entries())
            expected += file.count
        }
        streams.append(ArrayEntryStream(taken))
        for key in objects {
            let (stream, count) = try Self.stream(key, io: io)
            streams.append(stream)
            expected += count
        }
        let sources = (file?.sources ?? []).union(takenSources).union(objects)
        var merged = MergedEntryStream(streams)
        let made = try LocalIndexFile.write(&merged, expected: expected, sources: sources, to: newFilePath())
        lock.lock()
        for entry in taken where recent[entry.hash] == entry.location { recent.removeValue(forKey: entry.hash) }
        recentSources.subtract(takenSources)
        lock.unlock()
        install(made, replacingRecent: false)
    }

    /// A new local file from the listed objects alone, merged at most `mergeFanIn` at a time.
    private func build(from keys: [String], io: ThreadIO) throws(StoreError) -> LocalIndexFile {
        var pieces: [LocalIndexFile] = []
        defer { for piece in pieces { unlink(piece.path) } }
        var start = 0
        repeat {
            let group = Array(keys[start..<min(start + Self.mergeFanIn, keys.count)])
            var streams: [any IndexEntryStream] = []
            var expected = 0
            for key in group {
                let (stream, count) = try Self.stream(key, io: io)
                streams.append(stream)
                expected += count
            }
            var merged = MergedEntryStream(streams)
            pieces.append(try LocalIndexFile.write(&merged, expected: expected, sources: Set(group), to: newFilePath()))
            start += Self.mergeFanIn
        } while start < keys.count
        while pieces.count > 1 {
            let group = Array(pieces.prefix(Self.mergeFanIn))
            var merged = MergedEntryStream(group.map { $0.entries() })
            let sources = group.reduce(into: Set<String>()) { $0.formUnion($1.sources) }
            let made = try LocalIndexFile.write(
                &merged, expected: group.reduce(0) { $0 + $1.count }, sources: sources,
                to: newFilePath())
            for piece in group { unlink(piece.path) }
            pieces = [made] + pieces.dropFirst(group.count)
        }
        let only = pieces.removeFirst()
        return only
    }

    // MARK: Files

    private func state() -> (file: LocalIndexFile?, sources: Set<String>, recentCount: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (file, recentSources, recent.count)
    }

    private func currentFile() -> LocalIndexFile? { state().file }

    private var pointerPath: String { (directory as NSString).appendingPathComponent("current") }

    private func newFilePath() -> String {
        (directory as NSString).appendingPathComponent("index-\(UUID().uuidString).sllx")
    }

    /// Uses `made` from now on and names it the current file for other processes; the file it replaces is
    /// removed (processes still reading it keep their open descriptor).
    private func install(_ made: LocalIndexFile, replacingRecent: Bool) {
        lock.lock()
        let old = file
        file = made
        if replacingRecent {
            recent.removeAll()
            recentSources.removeAll()
        }
        lock.unlock()
        let temporary = pointerPath + ".tmp-\(UUID().uuidString)"
        if FileManager.default.createFile(
            atPath: temporary, contents: Data((made.path as NSString).lastPathComponent.utf8))
        {
            rename(temporary, pointerPath)
        }
        if let old, old.path != made.path { unlink(old.path) }
    }

    /// The file another process left current, if everything it holds is still in the store.
    private func adoptSharedFile(within keys: Set<String>) -> LocalIndexFile? {
        guard let name = try? String(contentsOfFile: pointerPath, encoding: .utf8),
            !name.isEmpty, !name.contains("/"),
            let shared = try? LocalIndexFile(path: (directory as NSString).appendingPathComponent(name)),
            shared.sources.isSubset(of: keys)
        else { return nil }
        return shared
    }

    // MARK: Index objects

    /// `keys` without the objects that do not read whole (each new one is read through once; damaged ones are
    /// remembered and reported, not read again). One damaged object costs the chunks it describes, not the store.
    /// The entries of the small ones, read on the way, come back too, so that they are not read twice.
    private func readable(_ keys: Set<String>, io: ThreadIO) throws(StoreError)
        -> (keys: Set<String>, decoded: [String: [IndexEntry]])
    {
        let (file, sources, _) = state()
        let known = (file?.sources ?? []).union(sources)
        var result = Set<String>()
        var decoded: [String: [IndexEntry]] = [:]
        for key in keys {
            if known.contains(key) {
                result.insert(key)
                continue
            }
            lock.lock()
            let skipped = unreadable[key] != nil
            lock.unlock()
            if skipped { continue }
            do throws(StoreError) {
                let (version, count) = try Self.header(of: key, io: io)
                if version == 2 && count > recentLimit {
                    var (stream, _) = try Self.stream(key, io: io)
                    while try stream.next() != nil {}
                } else {
                    decoded[key] = try Self.decode(key, io: io)
                }
                result.insert(key)
            } catch  where error.kind == .corrupt {
                lock.lock()
                unreadable[key] = error.message
                lock.unlock()
            } catch  where error.kind == .notFound {
                continue  // Removed since it was listed (garbage collection rewrote it).
            }
        }
        lock.lock()
        for key in unreadable.keys where !keys.contains(key) { unreadable.removeValue(forKey: key) }
        lock.unlock()
        return (result, decoded)
    }

    private static func header(of key: String, io: ThreadIO) throws(StoreError) -> (version: UInt8, count: Int) {
        var header = [UInt8](repeating: 0, count: PackFormat.indexHeaderSize)
        try header.withMutableBytes { (bytes) throws(StoreError) in try io.read(key, offset: 0, into: bytes) }
        return try header.withBytes { (bytes) throws(StoreError) in
            (try PackFormat.indexVersion(bytes, key: key), Int(bytes.readUInt32(at: 5)))
        }
    }

    private static func decode(_ key: String, io: ThreadIO) throws(StoreError) -> [IndexEntry] {
        let (version, count) = try header(of: key, io: io)
        let entrySize = version == 1 ? PackFormat.legacyIndexEntrySize : IndexEntry.size
        let size = try io.size(key)
        // The header says how big the object is; nothing larger is read into memory.
        guard size == UInt64(PackFormat.indexHeaderSize) + UInt64(count) * UInt64(entrySize) else {
            throw StoreError(
                .corrupt, "\(key) is \(size) bytes, not what its \(count) entries take; run `snaplab store repair`")
        }
        var data = Data(count: Int(size))
        try data.withMutableBytes { (bytes) throws(StoreError) in try io.read(key, offset: 0, into: bytes) }
        return try PackFormat.decodeIndex(data, key: key)
    }

    /// A stream over one index object: version 2 read block by block, version 1 (one small pack) whole.
    static func stream(_ key: String, io: ThreadIO) throws(StoreError) -> (any IndexEntryStream, Int) {
        let (version, count) = try header(of: key, io: io)
        if version == 1 {
            let entries = try decode(key, io: io)
            return (ArrayEntryStream(entries), entries.count)
        }
        let expectedSize = UInt64(PackFormat.indexHeaderSize) + UInt64(count) * UInt64(IndexEntry.size)
        guard try io.size(key) == expectedSize else {
            throw StoreError(.corrupt, "\(key) is truncated (\(count) entries announced)")
        }
        let stream = BlockEntryStream(source: key, start: UInt64(PackFormat.indexHeaderSize), count: count) {
            (offset, buffer) throws(StoreError) in try io.read(key, offset: offset, into: buffer)
        }
        return (stream, count)
    }
}
