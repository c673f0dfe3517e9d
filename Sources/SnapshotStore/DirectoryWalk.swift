import Foundation

/// The regular files under a directory, found by `opendir`/`readdir`. Unlike `FileManager`'s enumerator it
/// never skips what it cannot read: an unreadable directory is an error, because garbage collection would take
/// the objects it hides for unused ones.
enum DirectoryWalk {
    /// Paths relative to `start`; a missing `start` has none. `visit` sees every regular file.
    static func files(under start: String, visit: (_ relative: String, _ name: String) -> Void) throws(StoreError) {
        var pending = [""]
        while let relative = pending.popLast() {
            let here = relative.isEmpty ? start : "\(start)/\(relative)"
            guard let directory = opendir(here) else {
                // A missing top has no files; a directory removed while listing held none that count.
                if errno == ENOENT { continue }
                throw StoreError(.io, "cannot list \(here): \(FileIO.errorText()); check its permissions")
            }
            defer { closedir(directory) }
            while true {
                errno = 0
                guard let entry = readdir(directory) else {
                    if errno != 0 { throw StoreError(.io, "cannot list \(here): \(FileIO.errorText())") }
                    break
                }
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.bindMemory(to: CChar.self).baseAddress!)
                }
                if name == "." || name == ".." { continue }
                let child = relative.isEmpty ? name : "\(relative)/\(name)"
                let full = "\(start)/\(child)"
                var info = stat()
                guard lstat(full, &info) == 0 else {
                    if errno == ENOENT { continue }  // Replaced while listing (a rename into place).
                    throw StoreError(.io, "cannot stat \(full): \(FileIO.errorText())")
                }
                switch info.st_mode & S_IFMT {
                case S_IFREG: visit(child, name)
                case S_IFDIR: pending.append(child)
                default: continue
                }
            }
        }
    }
}
