import Foundation
import Logging
import SnaplabCore
import Synchronization

/// The access keys and the console password as their files say now: each request sees a key created, or a
/// password changed, after the server started, without a restart. A file is read again only when its
/// modification time, size or inode changed; a file that does not parse keeps the last good contents (logged).
final class CredentialFiles: Sendable {
    private struct Stamp: Equatable {
        var modified: timespec
        var size: off_t
        var inode: ino_t

        static func == (a: Stamp, b: Stamp) -> Bool {
            a.modified.tv_sec == b.modified.tv_sec && a.modified.tv_nsec == b.modified.tv_nsec && a.size == b.size
                && a.inode == b.inode
        }

        static func of(_ path: String) -> Stamp? {
            var info = stat()
            guard stat(path, &info) == 0 else { return nil }
            return Stamp(modified: info.st_mtim, size: info.st_size, inode: info.st_ino)
        }
    }

    private struct Cached<Value: Sendable>: @unchecked Sendable {
        // @unchecked: `timespec` is a plain C struct.
        var stamp: Stamp?
        var value: Value
    }

    private let paths: LabPaths
    private let logger = Logger(label: "snaplab.serve")
    private let accessKeys: Mutex<Cached<AccessKeys>>
    private let consolePassword: Mutex<Cached<ConsolePassword?>>

    init(paths: LabPaths) throws(SnaplabError) {
        self.paths = paths
        accessKeys = Mutex(Cached(stamp: Stamp.of(AccessKeys.file(in: paths).path), value: try AccessKeys.load(paths)))
        consolePassword = Mutex(
            Cached(stamp: Stamp.of(ConsolePassword.file(in: paths).path), value: try ConsolePassword.load(paths)))
    }

    var keys: AccessKeys {
        current(accessKeys, file: AccessKeys.file(in: paths)) { () throws(SnaplabError) in
            try AccessKeys.load(self.paths)
        }
    }

    var password: ConsolePassword? {
        current(consolePassword, file: ConsolePassword.file(in: paths)) { () throws(SnaplabError) in
            try ConsolePassword.load(self.paths)
        }
    }

    private func current<Value: Sendable>(
        _ cache: borrowing Mutex<Cached<Value>>, file: URL, load: () throws(SnaplabError) -> Value
    ) -> Value {
        let stamp = Stamp.of(file.path)
        return cache.withLock { cached in
            guard cached.stamp != stamp else { return cached.value }
            do throws(SnaplabError) {
                cached.value = try load()
                cached.stamp = stamp
                logger.notice("reloaded \(file.path)")
            } catch {
                logger.error("keeping the previous credentials: \(error.message)")
            }
            return cached.value
        }
    }
}
