import Foundation
import SnaplabCore

/// A small XML tree for EC2 responses: elements with text or children, written with escaping.
struct XMLElement: Sendable {
    var name: String
    var text: String?
    var children: [XMLElement]

    init(_ name: String, _ text: String) {
        self.name = name
        self.text = text
        children = []
    }

    init(_ name: String, _ children: [XMLElement] = []) {
        self.name = name
        text = nil
        self.children = children
    }

    /// An element only when the value exists.
    static func optional(_ name: String, _ value: String?) -> [XMLElement] {
        value.map { [XMLElement(name, $0)] } ?? []
    }

    /// EC2's list form: `<name><item>…</item>…</name>`.
    static func set(_ name: String, _ items: [[XMLElement]]) -> XMLElement {
        XMLElement(name, items.map { XMLElement("item", $0) })
    }

    static func tagSet(_ tags: [String: String]) -> XMLElement {
        set(
            "tagSet",
            tags.sorted { $0.key < $1.key }.map { [XMLElement("key", $0.key), XMLElement("value", $0.value)] })
    }

    func render(into output: inout String) {
        output += "<\(name)>"
        if let text { output += XMLText.escape(text) }
        for child in children { child.render(into: &output) }
        output += "</\(name)>"
    }

    static func timestamp(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }
}
