import Foundation

/// An instance's serial console log file, appended to across boots.
public struct ConsoleLog: Sendable {
    public let path: String

    public init(path: String) {
        self.path = path
    }

    /// The current end of the log: the offset where the next boot's output will start.
    public func endOffset() -> UInt64 {
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        return (attributes?[.size] as? NSNumber)?.uint64Value ?? 0
    }

    /// The log's text from `offset` on (lossy for bytes that are not UTF-8).
    public func text(from offset: UInt64 = 0) -> String {
        guard let handle = FileHandle(forReadingAtPath: path) else { return "" }
        defer { try? handle.close() }
        do {
            try handle.seek(toOffset: offset)
            let data = try handle.readToEnd() ?? Data()
            return String(decoding: data, as: UTF8.self)
        } catch {
            return ""
        }
    }

    /// The last `lines` lines from `offset` on, for error messages.
    public func tail(from offset: UInt64 = 0, lines: Int = 25) -> String {
        let all = text(from: offset).split(whereSeparator: \.isNewline)
        return all.suffix(lines).joined(separator: "\n")
    }

    public func markers(from offset: UInt64 = 0) -> [BootMarker] {
        BootMarker.all(in: text(from: offset))
    }

    static let bootRequested = "boot-requested"

    /// When the log last changed.
    public func lastModified() -> Date? {
        (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date
    }

    /// Appends a `boot-requested` marker, so the next boot's markers can be told from earlier boots'. Only while
    /// the domain is off (then nothing else writes the file).
    public func markBootRequested() {
        let line = Data("\(BootMarker.prefix)\(Self.bootRequested) t=0\n".utf8)
        if let handle = FileHandle(forWritingAtPath: path) {
            defer { try? handle.close() }
            _ = try? handle.seekToEnd()
            try? handle.write(contentsOf: line)
        } else {
            _ = FileManager.default.createFile(atPath: path, contents: line, attributes: [.posixPermissions: 0o644])
        }
    }

    /// The markers of the latest boot (since the last `boot-requested`, or the last `initramfs`).
    public func latestBootMarkers() -> [BootMarker] {
        let all = markers()
        if let request = all.lastIndex(where: { $0.phase == Self.bootRequested }) {
            return Array(all[(request + 1)...])
        }
        if let initramfs = all.lastIndex(where: { $0.phase == "initramfs" }) { return Array(all[initramfs...]) }
        return all
    }
}
