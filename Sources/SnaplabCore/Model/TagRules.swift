/// What a user may put in a tag: EC2's limits (keys 1–128 characters, values up to 256), no character an XML
/// answer cannot carry (control characters, U+FFFE/U+FFFF), and no key under the lab's own `snaplab:` prefix,
/// which marks what policies and environments own (as EC2 keeps `aws:` to itself).
public enum TagRules {
    public static let reservedPrefix = "snaplab:"

    public static func checkUserTags(_ tags: [String: String]) throws(SnaplabError) {
        for (key, value) in tags {
            try checkUserKey(key)
            guard value.count <= 256 else {
                throw SnaplabError(.invalidArgument, "the value of tag '\(key)' is longer than 256 characters")
            }
            try checkCharacters(value, of: "the value of tag '\(key)'")
        }
    }

    public static func checkUserKeys(_ keys: some Sequence<String>) throws(SnaplabError) {
        for key in keys { try checkUserKey(key) }
    }

    private static func checkUserKey(_ key: String) throws(SnaplabError) {
        guard (1...128).contains(key.count) else {
            throw SnaplabError(.invalidArgument, "tag key '\(key.prefix(40))' must be 1 to 128 characters long")
        }
        try checkCharacters(key, of: "tag key")
        if key.lowercased().hasPrefix(reservedPrefix) {
            throw SnaplabError(
                .invalidArgument,
                "tag key '\(key)' uses the reserved prefix '\(reservedPrefix)': the lab sets those tags itself")
        }
    }

    private static func checkCharacters(_ text: String, of what: String) throws(SnaplabError) {
        for scalar in text.unicodeScalars where !isAllowed(scalar) {
            throw SnaplabError(
                .invalidArgument,
                "\(what) contains the character U+\(String(scalar.value, radix: 16, uppercase: true)), which is not allowed in tags"
            )
        }
    }

    /// XML 1.0's characters, without the C0/C1 controls (tab is refused too: tags are one-line text).
    private static func isAllowed(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E, 0xA0...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }
}
