import Foundation
import GRDB

/// Snapshots decoded from their row by hand: a listing decodes thousands, and the `Decodable` path (a
/// `JSONDecoder` per tags column among them) was most of a long listing's time. `SnapshotRowTests` holds it
/// to what the catalog stores.
extension Snapshot {
    public init(row: Row) throws {
        func required<T>(_ value: T?, _ column: String) throws -> T {
            guard let value else {
                throw SnaplabError(.io, "the catalog's snapshot row \(row["id"] ?? "?") has no valid \(column)")
            }
            return value
        }
        self.init(
            id: row["id"], volumeId: row["volumeId"],
            volumeRole: try required(VolumeRole(rawValue: row["volumeRole"] ?? ""), "volumeRole"),
            volumeSize: row["volumeSize"],
            state: try required(SnapshotState(rawValue: row["state"] ?? ""), "state"),
            progress: row["progress"], parentId: row["parentId"], incremental: row["incremental"],
            setId: row["setId"],
            consistency: try (row["consistency"] as String?).map {
                try required(ConsistencyLevel(rawValue: $0), "consistency")
            },
            consistencyNote: row["consistencyNote"], instanceId: row["instanceId"], createdAt: row["createdAt"],
            completedAt: row["completedAt"], bytesRead: row["bytesRead"], bytesChanged: row["bytesChanged"],
            bytesStored: row["bytesStored"], allocatedBytes: row["allocatedBytes"], errorMessage: row["errorMessage"],
            description: row["description"], tags: try Self.tags(row["tags"]),
            boot: try (row["boot"] as String?).map { try JSONDecoder().decode(BootSettings.self, from: Data($0.utf8)) },
            checkpoint: row["checkpoint"], workerPid: row["workerPid"], workerStartTime: row["workerStartTime"])
        pinned = row["pinned"]
        lock = try (row["lock"] as String?).map { try Self.lockDecoder.decode(SnapshotLock.self, from: Data($0.utf8)) }
    }

    /// GRDB writes a nested value's dates as milliseconds since 1970 (its `databaseJSONEncoder`).
    static let lockDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .millisecondsSince1970
        return decoder
    }()

    /// `{"key":"value",…}`: read directly when no string has an escape, by `JSONDecoder` otherwise.
    static func tags(_ text: String?) throws -> [String: String] {
        guard let text else { return [:] }
        if let plain = PlainStringMap.parse(text) { return plain }
        return try JSONDecoder().decode([String: String].self, from: Data(text.utf8))
    }
}

/// A JSON object of strings with no escapes in them (what tags almost always are), or nil.
enum PlainStringMap {
    static func parse(_ text: String) -> [String: String]? {
        var utf8 = text.utf8[...]
        func skipSpace() {
            while let first = utf8.first, first == 0x20 || first == 0x0A || first == 0x0D || first == 0x09 {
                utf8.removeFirst()
            }
        }
        func take(_ byte: UInt8) -> Bool {
            skipSpace()
            guard utf8.first == byte else { return false }
            utf8.removeFirst()
            return true
        }
        func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            guard
                let end = utf8.firstIndex(where: { $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") || $0 < 0x20 }),
                utf8[end] == UInt8(ascii: "\"")
            else { return nil }
            let value = String(Substring(utf8[utf8.startIndex..<end]))
            utf8 = utf8[utf8.index(after: end)...]
            return value
        }
        guard take(UInt8(ascii: "{")) else { return nil }
        var map: [String: String] = [:]
        if take(UInt8(ascii: "}")) { return utf8.allSatisfy { $0 == 0x20 || $0 == 0x0A } ? map : nil }
        repeat {
            guard let key = string(), take(UInt8(ascii: ":")), let value = string(), map[key] == nil else { return nil }
            map[key] = value
        } while take(UInt8(ascii: ","))
        guard take(UInt8(ascii: "}")) else { return nil }
        skipSpace()
        return utf8.isEmpty ? map : nil
    }
}
