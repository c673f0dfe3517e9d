import Foundation

/// One completed snapshot: everything needed to restore it, and to rebuild the catalog from the store alone.
/// Written last, in one atomic put, after every chunk it lists is durable.
public struct Manifest: Codable, Sendable, Equatable {
    public static let currentFormat = 1

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
    public var chunks: ChunkTable

    public init(snapshotId: String, volumeId: String, volumeRole: String, volumeSize: UInt64, chunkSize: Int,
                parentId: String?, setId: String?, createdAt: Date, completedAt: Date, consistency: String,
                bytesRead: UInt64, bytesChanged: UInt64, bytesStored: UInt64, description: String?,
                tags: [String: String], attributes: [String: String], chunks: ChunkTable) {
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
        self.chunks = chunks
    }

    /// Bytes of the volume that hold data (the rest reads as zeros).
    public var allocatedBytes: UInt64 {
        var total: UInt64 = 0
        chunks.forEach { index, _ in total += UInt64(chunkLength(index)) }
        return total
    }

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
