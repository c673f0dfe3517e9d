import Foundation

/// One completed snapshot: everything needed to restore it, and to rebuild the catalog from the store alone.
/// Written last, in one atomic put, after every chunk it lists is durable and its chunk table is stored.
///
/// Format 2 (written now) keeps the chunk table in an object of its own (`tables/ID.tbl`), read as a stream, and
/// describes it here (`table`). Format 1 (still read) carried the table inside the manifest (`chunks`).
public struct Manifest: Sendable, Equatable {
    public static let currentFormat = 2
    /// 64 TiB: past any volume size the lab accepts (16 TiB, as gp3).
    static let maxVolumeSize: UInt64 = 64 << 40

    public var format: Int
    public var snapshotId: String
    public var volumeId: String
    /// `boot` or `data`.
    public var volumeRole: String
    public var volumeSize: UInt64
    public var chunkSize: Int
    public var parentId: String?
    /// Snapshots taken together (one instant, several volumes) share it.
    public var setId: String?
    /// The capture instant.
    public var createdAt: Date
    public var completedAt: Date
    /// `fs-frozen` or `crash`.
    public var consistency: String
    public var bytesRead: UInt64
    public var bytesChanged: UInt64
    public var bytesStored: UInt64
    public var description: String?
    public var tags: [String: String]
    /// Extra facts the controller keeps with a snapshot (e.g. how to boot a boot volume).
    public var attributes: [String: String]
    /// The chunk table: how many entries, their checksum, the bytes they cover.
    public var table: ChunkTableInfo
    /// A format 1 manifest's own table.
    var embeddedChunks: ChunkTable?

    public init(
        snapshotId: String, volumeId: String, volumeRole: String, volumeSize: UInt64, chunkSize: Int,
        parentId: String?, setId: String?, createdAt: Date, completedAt: Date, consistency: String,
        bytesRead: UInt64, bytesChanged: UInt64, bytesStored: UInt64, description: String?,
        tags: [String: String], attributes: [String: String], table: ChunkTableInfo
    ) {
        format = Self.currentFormat
        self.snapshotId = snapshotId
        self.volumeId = volumeId
        self.volumeRole = volumeRole
        self.volumeSize = volumeSize
        self.chunkSize = chunkSize
        self.parentId = parentId
        self.setId = setId
        self.createdAt = StoreDates.round(createdAt)
        self.completedAt = StoreDates.round(completedAt)
        self.consistency = consistency
        self.bytesRead = bytesRead
        self.bytesChanged = bytesChanged
        self.bytesStored = bytesStored
        self.description = description
        self.tags = tags
        self.attributes = attributes
        self.table = table
    }

    /// Bytes of the volume that hold data (the rest reads as zeros).
    public var allocatedBytes: UInt64 { table.allocatedBytes }

    public var chunkCount: UInt32 { UInt32((volumeSize + UInt64(chunkSize) - 1) / UInt64(chunkSize)) }

    /// The length of chunk `index` (the last one may be short).
    public func chunkLength(_ index: UInt32) -> Int {
        let start = UInt64(index) * UInt64(chunkSize)
        return Int(min(UInt64(chunkSize), volumeSize - start))
    }

    func encoded() throws(StoreError) -> Data {
        do {
            return try JSONEncoder.store.encode(self)
        } catch {
            throw StoreError(.io, "cannot encode manifest of \(snapshotId)", cause: error)
        }
    }

    static func decode(_ data: Data, key: String) throws(StoreError) -> Manifest {
        do {
            let manifest = try JSONDecoder.store.decode(Manifest.self, from: data)
            guard manifest.format <= currentFormat else {
                throw StoreError(.unsupported, "\(key) has format \(manifest.format); upgrade snaplab to read it")
            }
            return manifest
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "\(key) is not a valid manifest", cause: error)
        }
    }
}

/// What a manifest says about its chunk table object.
public struct ChunkTableInfo: Codable, Sendable, Equatable {
    public var entries: Int
    /// SHA-256 of the table object, so a damaged table is detected rather than restored wrongly.
    public var sha256: String
    public var allocatedBytes: UInt64

    public init(entries: Int, sha256: String, allocatedBytes: UInt64) {
        self.entries = entries
        self.sha256 = sha256
        self.allocatedBytes = allocatedBytes
    }
}

extension Manifest: Codable {
    private enum CodingKeys: String, CodingKey {
        case format, snapshotId, volumeId, volumeRole, volumeSize, chunkSize, parentId, setId, createdAt
        case completedAt, consistency, bytesRead, bytesChanged, bytesStored, description, tags, attributes
        case table, chunks
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        format = try container.decode(Int.self, forKey: .format)
        snapshotId = try container.decode(String.self, forKey: .snapshotId)
        volumeId = try container.decode(String.self, forKey: .volumeId)
        volumeRole = try container.decode(String.self, forKey: .volumeRole)
        volumeSize = try container.decode(UInt64.self, forKey: .volumeSize)
        chunkSize = try container.decode(Int.self, forKey: .chunkSize)
        parentId = try container.decodeIfPresent(String.self, forKey: .parentId)
        setId = try container.decodeIfPresent(String.self, forKey: .setId)
        createdAt = try container.decode(Date.self, forKey: .createdAt)
        completedAt = try container.decode(Date.self, forKey: .completedAt)
        consistency = try container.decode(String.self, forKey: .consistency)
        bytesRead = try container.decode(UInt64.self, forKey: .bytesRead)
        bytesChanged = try container.decode(UInt64.self, forKey: .bytesChanged)
        bytesStored = try container.decode(UInt64.self, forKey: .bytesStored)
        description = try container.decodeIfPresent(String.self, forKey: .description)
        tags = try container.decode([String: String].self, forKey: .tags)
        attributes = try container.decode([String: String].self, forKey: .attributes)
        guard chunkSize >= 4096, chunkSize <= PackFormat.maxChunkSize else {
            throw StoreError(.corrupt, "manifest of \(snapshotId) has chunk size \(chunkSize)")
        }
        // Sizes whose chunk numbers fit the table's 32 bits, and no bigger than any volume libvirt makes here.
        guard volumeSize > 0, volumeSize <= Self.maxVolumeSize,
            (volumeSize - 1) / UInt64(chunkSize) < UInt64(UInt32.max)
        else {
            throw StoreError(.corrupt, "manifest of \(snapshotId) has volume size \(volumeSize)")
        }
        let chunkCount = UInt32((volumeSize - 1) / UInt64(chunkSize) + 1)
        if format == 1 {
            let chunks = try container.decode(ChunkTable.self, forKey: .chunks)
            guard chunks.indices.allSatisfy({ $0 < chunkCount }),
                zip(chunks.indices, chunks.indices.dropFirst()).allSatisfy({ $0 < $1 })
            else {
                throw StoreError(.corrupt, "the chunk table of \(snapshotId) names chunks out of order or past its end")
            }
            embeddedChunks = chunks
            var allocated: UInt64 = 0
            let size = UInt64(chunkSize)
            let volumeSize = self.volumeSize
            // swift-format-ignore: ReplaceForEachWithForLoop
            chunks.forEach { index, _ in allocated += min(size, volumeSize - min(volumeSize, UInt64(index) * size)) }
            table = ChunkTableInfo(entries: chunks.count, sha256: "", allocatedBytes: allocated)
        } else {
            table = try container.decode(ChunkTableInfo.self, forKey: .table)
            guard table.entries >= 0, table.entries <= Int(chunkCount), table.allocatedBytes <= volumeSize else {
                throw StoreError(
                    .corrupt,
                    "manifest of \(snapshotId) describes \(table.entries) chunks, \(table.allocatedBytes) bytes, for \(chunkCount) chunks of volume"
                )
            }
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(format, forKey: .format)
        try container.encode(snapshotId, forKey: .snapshotId)
        try container.encode(volumeId, forKey: .volumeId)
        try container.encode(volumeRole, forKey: .volumeRole)
        try container.encode(volumeSize, forKey: .volumeSize)
        try container.encode(chunkSize, forKey: .chunkSize)
        try container.encodeIfPresent(parentId, forKey: .parentId)
        try container.encodeIfPresent(setId, forKey: .setId)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(completedAt, forKey: .completedAt)
        try container.encode(consistency, forKey: .consistency)
        try container.encode(bytesRead, forKey: .bytesRead)
        try container.encode(bytesChanged, forKey: .bytesChanged)
        try container.encode(bytesStored, forKey: .bytesStored)
        try container.encodeIfPresent(description, forKey: .description)
        try container.encode(tags, forKey: .tags)
        try container.encode(attributes, forKey: .attributes)
        if let embeddedChunks {
            try container.encode(embeddedChunks, forKey: .chunks)
        } else {
            try container.encode(table, forKey: .table)
        }
    }
}
