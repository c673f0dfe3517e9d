import Foundation

/// A phase marker the guest prints on its serial console: `SNAPLAB-MARK <phase> t=<uptime> [key=value…]`.
public struct BootMarker: Sendable, Equatable, Codable {
    /// `initramfs`, `fsck-start`, `fsck-end`, `root-mounted`, `data-formatted`, `data-mounted`, `ready`.
    public var phase: String
    /// Guest uptime in seconds when printed.
    public var uptime: Double
    public var fields: [String: String]

    static let prefix = "SNAPLAB-MARK "

    public init(phase: String, uptime: Double, fields: [String: String] = [:]) {
        self.phase = phase
        self.uptime = uptime
        self.fields = fields
    }

    /// Parses one console line; nil when it is not a marker.
    public init?(line: Substring) {
        guard let start = line.range(of: Self.prefix) else { return nil }
        let words = line[start.upperBound...].split(separator: " ", omittingEmptySubsequences: true)
        guard let phase = words.first else { return nil }
        var uptime: Double?
        var fields: [String: String] = [:]
        for word in words.dropFirst() {
            guard let equals = word.firstIndex(of: "=") else { continue }
            let key = String(word[..<equals])
            let value = String(word[word.index(after: equals)...]).trimmingCharacters(in: .whitespacesAndNewlines)
            if key == "t" { uptime = Double(value) } else { fields[key] = value }
        }
        guard let uptime else { return nil }
        self.init(phase: String(phase), uptime: uptime, fields: fields)
    }

    /// Every marker in a chunk of console output, in order.
    public static func all(in text: String) -> [BootMarker] {
        text.split(whereSeparator: \.isNewline).compactMap { BootMarker(line: $0) }
    }
}
