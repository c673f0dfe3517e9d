/// Cloud-style resource ids: a prefix, a dash and 17 lower-case hex digits (`vol-0a1b2c3d4e5f60718`).
public enum ResourceKind: String, Sendable, CaseIterable {
    case volume = "vol"
    case instance = "i"
    case snapshot = "snap"
    case image = "ami"
    case policy = "pol"
    case snapshotSet = "sset"
    case recycleBinRule = "rbin"

    public var noun: String {
        switch self {
        case .volume: "volume"
        case .instance: "instance"
        case .snapshot: "snapshot"
        case .image: "image"
        case .policy: "policy"
        case .snapshotSet: "snapshot set"
        case .recycleBinRule: "recycle bin rule"
        }
    }

    var article: String { self == .instance || self == .image ? "an" : "a" }
}

public enum ResourceID {
    static let digits = 17

    public static func generate(_ kind: ResourceKind) -> String {
        var generator = SystemRandomNumberGenerator()
        let hex = (0..<digits).map { _ in String(Int.random(in: 0..<16, using: &generator), radix: 16) }
        return "\(kind.rawValue)-\(hex.joined())"
    }

    /// Checks that `id` is a well-formed id of `kind`; ids end up in file and domain names, so anything else
    /// (path separators, dots) is refused here.
    public static func validate(_ id: String, as kind: ResourceKind) throws(SnaplabError) {
        let prefix = "\(kind.rawValue)-"
        let hex = id.dropFirst(prefix.count)
        guard id.hasPrefix(prefix), hex.count == digits,
            hex.allSatisfy({ $0.isHexDigit && ($0.isNumber || $0.isLowercase) })
        else {
            throw SnaplabError(
                .invalidArgument,
                "'\(id)' is not \(kind.article) \(kind.noun) id; expected \(prefix) followed by \(digits) hex digits",
                subject: "\(kind.rawValue)-", detail: .malformedId)
        }
    }
}
