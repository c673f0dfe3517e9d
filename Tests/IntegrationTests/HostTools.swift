import Foundation
import Testing

/// Host-side looks at volumes, through the Debian tools (qemu-img, e2fsck, debugfs): no mount, no loop device.
enum HostTools {
    @discardableResult
    static func run(_ executable: String, _ arguments: [String], allowedStatuses: Set<Int32> = [0]) throws
        -> (status: Int32, output: String)
    {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let output = String(decoding: data, as: UTF8.self)
        guard allowedStatuses.contains(process.terminationStatus) else {
            throw ToolFailure(
                command: ([executable] + arguments).joined(separator: " "), status: process.terminationStatus,
                output: output)
        }
        return (process.terminationStatus, output)
    }

    struct ToolFailure: Error, CustomStringConvertible {
        var command: String
        var status: Int32
        var output: String
        var description: String { "`\(command)` exited \(status): \(output)" }
    }

    /// A raw copy of a qcow2 volume in a temp file (the caller removes it).
    static func rawCopy(of qcow2: String) throws -> URL {
        let raw = URL(fileURLWithPath: "/tmp/snaplab-raw-\(UUID().uuidString).img")
        try run("/usr/bin/qemu-img", ["convert", "-f", "qcow2", "-O", "raw", qcow2, raw.path])
        return raw
    }

    /// e2fsck's exit status: read-only (`-fn`), or replaying the journal and fixing (`-fy`).
    static func fsck(_ raw: URL, repair: Bool) throws -> Int32 {
        try run("/sbin/e2fsck", [repair ? "-fy" : "-fn", raw.path], allowedStatuses: [0, 1, 2, 4, 8]).status
    }

    /// A file's contents, read with debugfs.
    static func cat(_ raw: URL, _ path: String) throws -> String {
        try run("/sbin/debugfs", ["-R", "cat \(path)", raw.path]).output
            .split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("debugfs ") }.joined(separator: "\n")
    }

    /// Fills a volume's first `mebibytes` with random data (offline, in place).
    static func fillRandom(_ qcow2: String, mebibytes: Int) throws {
        let raw = "/tmp/snaplab-fill-\(UUID().uuidString).raw"
        defer { try? FileManager.default.removeItem(atPath: raw) }
        try run("/bin/dd", ["if=/dev/urandom", "of=\(raw)", "bs=1M", "count=\(mebibytes)", "status=none"])
        try run("/usr/bin/qemu-img", ["convert", "-n", "-f", "raw", "-O", "qcow2", raw, qcow2])
    }

    static func processes(matching text: String) throws -> [String] {
        try run("/usr/bin/pgrep", ["-a", "-f", text], allowedStatuses: [0, 1]).output
            .split(separator: "\n").map(String.init).filter { !$0.contains("pgrep") }
    }
}
