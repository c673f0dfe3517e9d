import Foundation

/// What the benchmark asks of the machine: an empty page cache before each timed step, everything on disk at
/// the end of each, and this process's peak memory.
enum BenchSystem {
    /// Writes dirty pages back, then drops clean ones (root only). False when the cache could not be dropped.
    @discardableResult
    static func dropPageCache() -> Bool {
        sync()
        guard let handle = FileHandle(forWritingAtPath: "/proc/sys/vm/drop_caches") else { return false }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("3\n".utf8))
            return true
        } catch {
            return false
        }
    }

    /// VmHWM: the most memory this process has held resident since the last `resetPeakResident`.
    static func peakResidentBytes() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = UInt64(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }

    /// Starts a new peak-memory measurement (Linux: `5` into clear_refs resets VmHWM to the current RSS).
    static func resetPeakResident() {
        guard let handle = FileHandle(forWritingAtPath: "/proc/self/clear_refs") else { return }
        try? handle.write(contentsOf: Data("5\n".utf8))
        try? handle.close()
    }

    /// Bytes a file takes on disk (a sparse file takes less than its size).
    static func allocatedBytes(_ path: String) -> UInt64 {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return UInt64(info.st_blocks) * 512
    }

    /// The apparent size of everything under `directory` (a repository).
    static func directoryBytes(_ directory: URL) -> UInt64 {
        guard
            let walker = FileManager.default.enumerator(
                at: directory, includingPropertiesForKeys: [.fileSizeKey, .isRegularFileKey])
        else { return 0 }
        var total: UInt64 = 0
        for case let url as URL in walker {
            guard let values = try? url.resourceValues(forKeys: [.fileSizeKey, .isRegularFileKey]),
                values.isRegularFile == true
            else { continue }
            total += UInt64(values.fileSize ?? 0)
        }
        return total
    }
}
