/// Where each kind of object lives in a store. Ids are checked to be single, safe path components.
public enum StoreLayout {
    public static let config = "config.json"
    public static let snapshotsPrefix = "snapshots/"
    public static let packsPrefix = "packs/"
    public static let indexPrefix = "index/"
    public static let artifactsPrefix = "artifacts/"
    public static let documentsPrefix = "documents/"
    public static let tablesPrefix = "tables/"
    /// One empty object per deleted snapshot, written before its manifest goes, until the next garbage
    /// collection: what lets that collection tell a deleted snapshot from one a bad listing hid.
    public static let tombstonesPrefix = "deleted/"
    /// The snapshots the last garbage collection marked from.
    public static let lastMark = "gc/marked.json"

    public static func manifest(_ snapshotId: String) -> String { "\(snapshotsPrefix)\(snapshotId).json" }
    public static func pack(_ packId: String) -> String { "\(packsPrefix)\(packId.prefix(2))/\(packId).pack" }
    public static func pack(_ pack: PackID) -> String { self.pack(pack.hex) }
    /// An index object: named after its one pack (version 1), or at random (version 2).
    public static func index(_ name: String) -> String { "\(indexPrefix)\(name).idx" }
    /// A snapshot's chunk table (manifest format 2).
    public static func table(_ snapshotId: String) -> String { "\(tablesPrefix)\(snapshotId).tbl" }
    public static func tombstone(_ snapshotId: String) -> String { "\(tombstonesPrefix)\(snapshotId)" }
    public static func artifact(_ digest: String) -> String { "\(artifactsPrefix)\(digest)" }

    /// The snapshot id of a manifest key, or nil for anything else.
    static func snapshotId(ofManifest key: String) -> String? {
        guard key.hasPrefix(snapshotsPrefix), key.hasSuffix(".json") else { return nil }
        return String(key.dropFirst(snapshotsPrefix.count).dropLast(".json".count))
    }

    static func packId(ofIndex key: String) -> String? {
        guard key.hasPrefix(indexPrefix), key.hasSuffix(".idx") else { return nil }
        return String(key.dropFirst(indexPrefix.count).dropLast(".idx".count))
    }

    static func snapshotId(ofTable key: String) -> String? {
        guard key.hasPrefix(tablesPrefix), key.hasSuffix(".tbl") else { return nil }
        return String(key.dropFirst(tablesPrefix.count).dropLast(".tbl".count))
    }

    static func packId(ofPack key: String) -> String? {
        guard key.hasPrefix(packsPrefix), key.hasSuffix(".pack") else { return nil }
        return String(key.split(separator: "/").last?.dropLast(".pack".count) ?? "")
    }

    static func isSafeComponent(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 128
            && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }
    }
}
