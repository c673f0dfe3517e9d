import Blocking
import CLinux
import Foundation
import Synchronization

/// The default backend: a directory. `put` writes a temp file, fsyncs it, renames it into place and fsyncs the
/// directory, so a crash leaves the old object or the new one, never a torn one.
public struct DirectoryBackend: BlockingObjectBackend {
    public let root: URL

    public init(root: URL) {
        self.root = root.standardizedFileURL
    }

    public var location: String { "dir://\(root.path)" }

    func path(_ key: String) -> String { root.appendingPathComponent(key).path }

    public func put(_ key: String, _ data: Data) async throws(StoreError) {
        let target = path(key)
        try await BlockingPool.run { () throws(StoreError) in try Self.writeDurably(data, to: target) }
    }

    public func get(_ key: String) async throws(StoreError) -> Data {
        let target = path(key)
        return try await BlockingPool.run { () throws(StoreError) in
            guard let data = FileManager.default.contents(atPath: target) else {
                if FileManager.default.fileExists(atPath: target) {
                    throw StoreError(.io, "cannot read \(target); check its permissions")
                }
                throw StoreError(.notFound, "\(key) is not in the store at \(root.path)")
            }
            return data
        }
    }

    public func get(_ key: String, offset: UInt64, length: Int) async throws(StoreError) -> Data {
        try await BlockingPool.run { () throws(StoreError) in
            var data = Data(count: length)
            try data.withMutableBytes { (buffer) throws(StoreError) in try readSync(key, offset: offset, into: buffer) }
            return data
        }
    }

    func readBlocking(_ key: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) {
        try readSync(key, offset: offset, into: buffer)
    }

    func putPackBlocking(_ key: String, _ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(StoreError) {
        try putNewDirectSync(key, buffer, length: length)
    }

    func putBlocking(_ key: String, _ data: Data) throws(StoreError) {
        try Self.writeDurably(data, to: path(key))
    }

    func sizeBlocking(_ key: String) throws(StoreError) -> UInt64 {
        try sizeSync(key)
    }

    /// Reads exactly `buffer.count` bytes from `offset`, on the calling thread.
    func readSync(_ key: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) {
        let target = path(key)
        let descriptor = open(target, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw StoreError(errno == ENOENT ? .notFound : .io, "cannot open \(target): \(Self.errorText())")
        }
        defer { close(descriptor) }
        try FileIO.readExactly(descriptor, buffer, at: offset, path: target)
    }

    /// A pack: created under its final name (nothing finds it before an index names it), one write, one
    /// fsync. The directory entry is made durable by `syncDirectories` before that index is written.
    func putNewSync(_ key: String, _ bytes: UnsafeRawBufferPointer) throws(StoreError) {
        let target = path(key)
        try Self.makeDirectory((target as NSString).deletingLastPathComponent)
        let descriptor = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError(.io, "cannot create \(target): \(Self.errorText())") }
        try Self.finishWrite(descriptor, target: target) { () throws(StoreError) in
            try FileIO.writeAll(descriptor, bytes, path: target)
        }
    }

    /// A pack written past the page cache (O_DIRECT): on these machines a buffered write of a pack costs more
    /// CPU than hashing it, and nothing reads a pack right after it is written. `buffer` is 4 KiB-aligned and
    /// holds the pack's `length` bytes followed by room to round the write up to 4 KiB; the file is then cut
    /// to `length`. Falls back to a plain write where the filesystem refuses O_DIRECT.
    func putNewDirectSync(_ key: String, _ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(StoreError) {
        let padded = (length + Self.directAlignment - 1) / Self.directAlignment * Self.directAlignment
        guard let base = buffer.baseAddress, Int(bitPattern: base) % Self.directAlignment == 0, padded <= buffer.count
        else {
            return try putNewSync(key, UnsafeRawBufferPointer(rebasing: buffer[0..<length]))
        }
        let target = path(key)
        try Self.makeDirectory((target as NSString).deletingLastPathComponent)
        let descriptor = open(target, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | snaplab_o_direct(), 0o644)
        guard descriptor >= 0 else {
            if errno == EINVAL { return try putNewSync(key, UnsafeRawBufferPointer(rebasing: buffer[0..<length])) }
            throw StoreError(.io, "cannot create \(target): \(Self.errorText())")
        }
        UnsafeMutableRawBufferPointer(rebasing: buffer[length..<padded]).initializeMemory(as: UInt8.self, repeating: 0)
        try Self.finishWrite(descriptor, target: target) { () throws(StoreError) in
            try FileIO.writeAll(descriptor, UnsafeRawBufferPointer(rebasing: buffer[0..<padded]), path: target)
            if ftruncate(descriptor, off_t(length)) != 0 {
                throw StoreError(.io, "cannot truncate \(target): \(Self.errorText())")
            }
        }
    }

    /// Reads bytes `offset..<offset + length` of an object past the page cache into `buffer` (4 KiB-aligned, at
    /// least `length + 8 KiB`); returns where in `buffer` they start. Falls back to a plain read.
    func readDirectSync(_ key: String, offset: UInt64, length: Int, into buffer: UnsafeMutableRawBufferPointer)
        throws(StoreError) -> Int
    {
        let alignment = UInt64(Self.directAlignment)
        let start = offset / alignment * alignment
        let end = (offset + UInt64(length) + alignment - 1) / alignment * alignment
        let target = path(key)
        guard let base = buffer.baseAddress, Int(bitPattern: base) % Self.directAlignment == 0,
            Int(end - start) <= buffer.count
        else {
            try readSync(key, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]))
            return 0
        }
        let descriptor = open(target, O_RDONLY | O_CLOEXEC | snaplab_o_direct())
        guard descriptor >= 0 else {
            if errno == EINVAL {
                try readSync(key, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]))
                return 0
            }
            throw StoreError(errno == ENOENT ? .notFound : .io, "cannot open \(target): \(Self.errorText())")
        }
        defer { close(descriptor) }
        let needed = Int(offset - start) + length
        var done = 0
        while done < needed {
            let got = pread(descriptor, base + done, Int(end - start) - done, off_t(start) + off_t(done))
            if got < 0 {
                if errno == EINTR { continue }
                throw StoreError(.io, "cannot read \(target): \(Self.errorText())")
            }
            if got == 0 { throw StoreError(.corrupt, "\(target) ends before byte \(offset + UInt64(length))") }
            done += got
        }
        return Int(offset - start)
    }

    static let directAlignment = 4096

    /// Runs `write` on a new file, then fsyncs and closes it; removes the file if anything failed.
    private static func finishWrite(_ descriptor: Int32, target: String, _ write: () throws(StoreError) -> Void)
        throws(StoreError)
    {
        var failure: StoreError?
        do throws(StoreError) { try write() } catch { failure = error }
        if failure == nil, fsync(descriptor) != 0 {
            failure = StoreError(.io, "cannot fsync \(target): \(errorText())")
        }
        close(descriptor)
        if let failure {
            unlink(target)
            throw failure
        }
    }

    /// Makes new entries in the directories holding `keys` durable.
    func syncDirectories(of keys: [String]) throws(StoreError) {
        for directory in Set(keys.map { (path($0) as NSString).deletingLastPathComponent }).sorted() {
            try Self.syncDirectory(directory)
        }
    }

    func sizeSync(_ key: String) throws(StoreError) -> UInt64 {
        let target = path(key)
        var info = stat()
        guard stat(target, &info) == 0 else {
            throw StoreError(errno == ENOENT ? .notFound : .io, "cannot stat \(target): \(Self.errorText())")
        }
        return UInt64(info.st_size)
    }

    public func list(prefix: String) async throws(StoreError) -> [String] {
        let start = path(prefix)
        let relativeStart = String(start.dropFirst(root.path.count + 1))
        return try await BlockingPool.run { () throws(StoreError) in
            var keys: [String] = []
            try DirectoryWalk.files(under: start) { relative, name in
                if !name.hasPrefix(".tmp-") {
                    keys.append(relativeStart.isEmpty ? relative : "\(relativeStart)/\(relative)")
                }
            }
            return keys
        }
    }

    /// When an object was last written.
    public func modified(_ key: String) async throws(StoreError) -> Date {
        let target = path(key)
        return try await BlockingPool.run { () throws(StoreError) -> Date in
            var info = stat()
            guard stat(target, &info) == 0 else {
                throw StoreError(errno == ENOENT ? .notFound : .io, "cannot stat \(target): \(Self.errorText())")
            }
            return Date(timeIntervalSince1970: TimeInterval(info.st_mtim.tv_sec))
        }
    }

    /// Removes the temporary files writers killed mid-write left (`.tmp-…`: a put before its rename, a chunk
    /// table being spooled). Only under the exclusive store lock, when no writer can be using one. Returns the
    /// bytes freed.
    func removeTemporaryFiles() async throws(StoreError) -> UInt64 {
        let base = root.path
        return try await BlockingPool.run { () throws(StoreError) -> UInt64 in
            var freed: UInt64 = 0
            try DirectoryWalk.files(under: base) { relative, name in
                guard name.hasPrefix(".tmp-") else { return }
                let full = "\(base)/\(relative)"
                var info = stat()
                guard stat(full, &info) == 0 else { return }
                if unlink(full) == 0 { freed += UInt64(info.st_size) }
            }
            return freed
        }
    }

    public func delete(_ key: String) async throws(StoreError) {
        let target = path(key)
        try await BlockingPool.run { () throws(StoreError) in
            if unlink(target) != 0 && errno != ENOENT {
                throw StoreError(.io, "cannot delete \(target): \(Self.errorText())")
            }
        }
    }

    public func exists(_ key: String) async throws(StoreError) -> Bool {
        let target = path(key)
        return try await BlockingPool.run { () throws(StoreError) in FileManager.default.fileExists(atPath: target) }
    }

    public func size(_ key: String) async throws(StoreError) -> UInt64 {
        try await BlockingPool.run { () throws(StoreError) in try sizeSync(key) }
    }

    public func lock(exclusive: Bool, timeout: Duration) async throws(StoreError) -> any StoreLock {
        let lockPath = path("lock")
        let rootPath = root.path
        let descriptor = try await BlockingPool.run { () throws(StoreError) -> Int32 in
            try Self.makeDirectory(rootPath)
            let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
            guard descriptor >= 0 else { throw StoreError(.io, "cannot open \(lockPath): \(Self.errorText())") }
            return descriptor
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            if flock(descriptor, (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0 {
                return FileLock(descriptor: descriptor)
            }
            if clock.now >= deadline || Task.isCancelled {
                close(descriptor)
                throw StoreError(
                    .busy,
                    exclusive
                        ? "the store at \(rootPath) is in use by snapshots being written; try again when they finish"
                        : "the store at \(rootPath) is being garbage-collected; try again shortly")
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    static func writeDurably(_ data: Data, to target: String) throws(StoreError) {
        let directory = (target as NSString).deletingLastPathComponent
        try makeDirectory(directory)
        let temporary = (directory as NSString).appendingPathComponent(".tmp-\(UUID().uuidString)")
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw StoreError(.io, "cannot create \(temporary): \(errorText())") }
        var failure: StoreError?
        do throws(StoreError) {
            try data.withBytes { (bytes) throws(StoreError) in try FileIO.writeAll(descriptor, bytes, path: target) }
        } catch {
            failure = error
        }
        if failure == nil, fsync(descriptor) != 0 {
            failure = StoreError(.io, "cannot fsync \(target): \(errorText())")
        }
        close(descriptor)
        if failure == nil, rename(temporary, target) != 0 {
            failure = StoreError(.io, "cannot rename into \(target): \(errorText())")
        }
        if let failure {
            unlink(temporary)
            throw failure
        }
        try syncDirectory(directory)
    }

    /// Makes a directory entry change (a rename, a new file) durable.
    static func syncDirectory(_ directory: String) throws(StoreError) {
        let descriptor = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw StoreError(.io, "cannot open directory \(directory): \(errorText())") }
        defer { close(descriptor) }
        if fsync(descriptor) != 0 { throw StoreError(.io, "cannot fsync directory \(directory): \(errorText())") }
    }

    /// Creates a directory (and parents) durably: each new entry is synced in its parent.
    static func makeDirectory(_ path: String) throws(StoreError) {
        var missing: [String] = []
        var current = path
        while !current.isEmpty, current != "/", !FileManager.default.fileExists(atPath: current) {
            missing.append(current)
            current = (current as NSString).deletingLastPathComponent
        }
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw StoreError(.io, "cannot create directory \(path); check permissions and free space", cause: error)
        }
        for created in missing.reversed() { try syncDirectory((created as NSString).deletingLastPathComponent) }
    }

    static func errorText() -> String { FileIO.errorText() }
}

/// An flock(2) on the store's lock file; the kernel drops it if the process dies.
final class FileLock: StoreLock {
    private let descriptor: Mutex<Int32?>

    init(descriptor: Int32) {
        self.descriptor = Mutex(descriptor)
    }

    /// The kernel keeps an flock for as long as the descriptor is open.
    var isHeld: Bool { descriptor.withLock { $0 != nil } }

    func release() async {
        descriptor.withLock { held in
            if let open = held { close(open) }
            held = nil
        }
    }

    deinit {
        descriptor.withLock { held in
            if let open = held { close(open) }
        }
    }
}
