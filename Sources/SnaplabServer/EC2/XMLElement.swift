import Foundation
import NIOCore
import SnaplabCore
import SnapshotStore

/// A small XML tree for EC2 responses: elements with text or children, written with escaping straight into
/// one byte buffer (no intermediate strings), so an answer of thousands of items renders in linear time.
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

    func render(into output: inout ByteBuffer) {
        Self.open(name, into: &output)
        if let text { Self.writeEscaped(text, into: &output) }
        for child in children { child.render(into: &output) }
        Self.close(name, into: &output)
    }

    static func open(_ name: String, into output: inout ByteBuffer) {
        output.writeInteger(UInt8(ascii: "<"))
        output.writeString(name)
        output.writeInteger(UInt8(ascii: ">"))
    }

    static func close(_ name: String, into output: inout ByteBuffer) {
        output.writeStaticString("</")
        output.writeString(name)
        output.writeInteger(UInt8(ascii: ">"))
    }

    /// Text with `& < > " '` escaped; runs without them are copied whole.
    static func writeEscaped(_ text: String, into output: inout ByteBuffer) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for (index, byte) in bytes.enumerated() {
                let entity: StaticString
                switch byte {
                case UInt8(ascii: "&"): entity = "&amp;"
                case UInt8(ascii: "<"): entity = "&lt;"
                case UInt8(ascii: ">"): entity = "&gt;"
                case UInt8(ascii: "\""): entity = "&quot;"
                case UInt8(ascii: "'"): entity = "&apos;"
                default: continue
                }
                output.writeBytes(UnsafeBufferPointer(rebasing: bytes[start..<index]))
                output.writeStaticString(entity)
                start = index + 1
            }
            output.writeBytes(UnsafeBufferPointer(rebasing: bytes[start...]))
        }
    }

    static func timestamp(_ date: Date) -> String { ISOTimestamp.string(date) }

    static func bool(_ value: Bool) -> String { value ? "true" : "false" }
}
