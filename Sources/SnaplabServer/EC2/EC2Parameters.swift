import Foundation
import SnaplabCore

/// The form parameters of one EC2 Query request (`Action=…&Version=…&VolumeId.1=…`), with the flattened-list
/// and structure conventions of botocore's `ec2` protocol.
struct EC2Parameters: Sendable {
    let values: [String: String]

    init(formBody: String) {
        var values: [String: String] = [:]
        for pair in formBody.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            let key = Self.decode(parts[0])
            values[key] = parts.count == 2 ? Self.decode(parts[1]) : ""
        }
        self.values = values
    }

    static func decode(_ text: String) -> String {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? text
    }

    subscript(_ key: String) -> String? { values[key] }

    /// Refuses a key or value no XML 1.0 answer could carry (control characters, U+FFFE, U+FFFF): stored, it
    /// would make every later answer that names it unreadable.
    func checkXMLSafe() throws(EC2Error) {
        for (key, value) in values {
            let bad = (key.unicodeScalars + value.unicodeScalars).first { !Self.isXMLCharacter($0) }
            if let bad {
                throw EC2Error(
                    code: "InvalidParameterValue",
                    message:
                        "Parameter \(key.unicodeScalars.allSatisfy(Self.isXMLCharacter) ? key : "(name)") holds character U+\(String(bad.value, radix: 16, uppercase: true)), which is not allowed"
                )
            }
        }
    }

    private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x0A, 0x0D, 0x20...0xD7FF, 0xE000...0xFFFD, 0x10000...0x10FFFF: true
        default: false
        }
    }

    var action: String { values["Action"] ?? "" }

    func required(_ key: String) throws(EC2Error) -> String {
        guard let value = values[key], !value.isEmpty else {
            throw EC2Error(code: "MissingParameter", message: "The request must contain the parameter \(key)")
        }
        return value
    }

    func int(_ key: String) throws(EC2Error) -> Int? {
        guard let text = values[key] else { return nil }
        guard let value = Int(text) else {
            throw EC2Error(
                code: "InvalidParameterValue",
                message: "Value (\(text)) for parameter \(key) is invalid. Expected an integer.")
        }
        return value
    }

    /// An integer that must lie in `range` (EC2's limits), as `InvalidParameterValue` otherwise.
    func int(_ key: String, in range: ClosedRange<Int>) throws(EC2Error) -> Int? {
        guard let value = try int(key) else { return nil }
        guard range.contains(value) else {
            throw EC2Error(
                code: "InvalidParameterValue",
                message:
                    "Value (\(value)) for parameter \(key) is invalid. It must be between \(range.lowerBound) and \(range.upperBound)."
            )
        }
        return value
    }

    /// A volume size in GiB (gp3's 1–16 384), in bytes.
    func volumeSize(_ key: String) throws(EC2Error) -> UInt64? {
        try int(key, in: Self.volumeSizeGiB).map { UInt64($0) << 30 }
    }

    static let volumeSizeGiB = 1...16_384

    func bool(_ key: String) -> Bool { values[key]?.lowercased() == "true" }

    /// `Prefix.1`, `Prefix.2`, … in order.
    func list(_ prefix: String) -> [String] {
        var result: [String] = []
        var index = 1
        while let value = values["\(prefix).\(index)"] {
            result.append(value)
            index += 1
        }
        return result
    }

    /// The indices N for which some `Prefix.N.…` key exists, in order (1, 2, … up to the first gap). One pass
    /// over the keys: a request with thousands of parameters costs thousands of steps, not millions.
    func structures(_ prefix: String) -> [String] {
        let lead = prefix + "."
        var present = Set<Int>()
        for key in values.keys where key.hasPrefix(lead) {
            let rest = key.dropFirst(lead.count)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]) else { continue }
            present.insert(index)
        }
        var result: [String] = []
        var index = 1
        while present.contains(index) {
            result.append("\(prefix).\(index)")
            index += 1
        }
        return result
    }

    /// `Filter.N.Name` / `Filter.N.Value.M`.
    var filters: [EC2Filter] {
        structures("Filter").compactMap { prefix in
            values["\(prefix).Name"].map { EC2Filter(name: $0, values: list("\(prefix).Value")) }
        }
    }

    /// `TagSpecification.N.ResourceType` / `.Tag.M.Key` / `.Tag.M.Value`, for one resource type.
    func tagSpecifications(for resourceType: String) throws(EC2Error) -> [String: String] {
        var tags: [String: String] = [:]
        for prefix in structures("TagSpecification") where values["\(prefix).ResourceType"] == resourceType {
            tags.merge(try self.tags("\(prefix).Tag")) { $1 }
        }
        return tags
    }

    /// `Prefix.N.Key` / `Prefix.N.Value`.
    func tags(_ prefix: String) throws(EC2Error) -> [String: String] {
        var tags: [String: String] = [:]
        for item in structures(prefix) {
            if let key = values["\(item).Key"] { tags[key] = values["\(item).Value"] ?? "" }
        }
        do {
            try TagRules.checkUserTags(tags)
        } catch {
            throw EC2Error(code: "InvalidParameterValue", message: error.message)
        }
        return tags
    }
}

/// One `Filter.N`: a name and the values any of which may match (with `*` and `?` wildcards).
struct EC2Filter: Sendable {
    var name: String
    var values: [String]

    func matches(_ candidate: String?) -> Bool {
        guard let candidate else { return false }
        return values.contains { Self.glob($0, candidate) }
    }

    /// EC2's wildcards: `*` any run, `?` any one character.
    static func glob(_ pattern: String, _ text: String) -> Bool {
        let p = Array(pattern)
        let t = Array(text)
        var (pi, ti, star, mark) = (0, 0, -1, 0)
        while ti < t.count {
            if pi < p.count, p[pi] == "?" || p[pi] == t[ti] {
                pi += 1
                ti += 1
            } else if pi < p.count, p[pi] == "*" {
                star = pi
                mark = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                mark += 1
                ti = mark
            } else {
                return false
            }
        }
        while pi < p.count, p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// Applies filters to resources: `fields` gives, per filter name, the resource's values for it.
enum EC2Filtering {
    static func apply<T>(
        _ items: [T], _ filters: [EC2Filter], tags: (T) -> [String: String],
        fields: (T, String) -> [String]?
    ) throws(EC2Error) -> [T] {
        var result: [T] = []
        for item in items {
            var keep = true
            for filter in filters {
                let itemTags = tags(item)
                let candidates: [String]
                if filter.name.hasPrefix("tag:") {
                    candidates = itemTags[String(filter.name.dropFirst(4))].map { [$0] } ?? []
                } else if filter.name == "tag-key" {
                    candidates = Array(itemTags.keys)
                } else if filter.name == "tag-value" {
                    candidates = Array(itemTags.values)
                } else if let values = fields(item, filter.name) {
                    candidates = values
                } else {
                    throw EC2Error(code: "InvalidParameterValue", message: "The filter '\(filter.name)' is invalid")
                }
                if !candidates.contains(where: { filter.matches($0) }) { keep = false }
            }
            if keep { result.append(item) }
        }
        return result
    }

    /// `MaxResults` / `NextToken` over a stable order; the token is the next offset.
    static func page<T>(_ items: [T], parameters: EC2Parameters) throws(EC2Error) -> (items: [T], nextToken: String?) {
        let start: Int
        if let token = parameters["NextToken"] {
            guard let offset = Int(token), offset >= 0, offset <= items.count else {
                throw EC2Error(code: "InvalidParameterValue", message: "The token '\(token)' is invalid")
            }
            start = offset
        } else {
            start = 0
        }
        guard let maximum = try parameters.int("MaxResults") else { return (Array(items[start...]), nil) }
        guard maximum >= 1 else {
            throw EC2Error(code: "InvalidParameterValue", message: "MaxResults must be at least 1")
        }
        let end = min(items.count, start + maximum)
        return (Array(items[start..<end]), end < items.count ? String(end) : nil)
    }
}
