import GRDB

/// A filter on tags, EC2's way: `tag:KEY` (a key, one of these values), `tag-key` (a key, any value) and
/// `tag-value` (any key, one of these values). Values may use EC2's wildcards, `*` and `?`.
public struct TagFilter: Sendable, Equatable {
    /// The key, taken literally (`tag:KEY`); nil: any key, or one matching `keyPatterns`.
    public var key: String?
    /// Key patterns (`tag-key`), one must match; empty: any key.
    public var keyPatterns: [String]
    /// Value patterns, one must match; empty: any value.
    public var values: [String]

    public init(key: String?, keyPatterns: [String] = [], values: [String] = []) {
        self.key = key
        self.keyPatterns = keyPatterns
        self.values = values
    }

    /// `KEY=VALUE`, or `KEY` for "has the tag".
    public init?(parsing text: String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty else { return nil }
        self.init(key: parts[0], values: parts.count == 2 ? [parts[1]] : [])
    }

    /// The resource has a tag matching this filter, looked up in `resourceTags` by its index.
    func condition(kind: String, idColumn: String) -> SQL {
        var match: SQL = "kind = \(kind)"
        if let key { match += " AND key = \(key)" }
        if !keyPatterns.isEmpty { match += " AND \(Self.matchAny("key", keyPatterns))" }
        if !values.isEmpty { match += " AND \(Self.matchAny("value", values))" }
        return "\(sql: idColumn) IN (SELECT resourceId FROM resourceTags WHERE \(match))"
    }

    /// Exactly `key` = `value`, whatever characters the value has.
    public static func exactly(_ key: String, _ value: String) -> TagFilter {
        TagFilter(key: key, values: [WildcardPattern.escape(value)])
    }

    /// `expression` matches one of the patterns, as SQL: equality where a pattern has no wildcard (so an
    /// index serves it), GLOB otherwise.
    static func matchAny(_ expression: SQL, _ patterns: [String]) -> SQL {
        let parsed = patterns.map(WildcardPattern.init)
        let exact = parsed.filter { $0.glob == nil }.map(\.literal)
        var alternatives: [SQL] = []
        if !exact.isEmpty { alternatives.append("\(expression) IN \(exact)") }
        for glob in parsed.compactMap(\.glob) { alternatives.append("\(expression) GLOB \(glob)") }
        return "(\(alternatives.joined(separator: " OR ")))"
    }
}

/// EC2's filter values: `*` any run of characters, `?` any one, a backslash makes the next one literal.
struct WildcardPattern {
    /// The SQLite GLOB equivalent, or nil when the pattern has no wildcard.
    let glob: String?
    /// What the pattern matches when it has no wildcard.
    let literal: String

    init(_ pattern: String) {
        var glob = ""
        var literal = ""
        var wild = false
        var escaped = false
        for character in pattern {
            if escaped {
                escaped = false
                literal.append(character)
                glob += "*?[".contains(character) ? "[\(character)]" : String(character)
            } else if character == "\\" {
                escaped = true
            } else if character == "*" || character == "?" {
                wild = true
                glob.append(character)
            } else {
                literal.append(character)
                glob += character == "[" ? "[[]" : String(character)
            }
        }
        if escaped {
            literal.append("\\")
            glob.append("\\")
        }
        self.glob = wild ? glob : nil
        self.literal = literal
    }

    /// The pattern that matches exactly `text`.
    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            if "\\*?".contains(character) { escaped.append("\\") }
            escaped.append(character)
        }
        return escaped
    }
}
