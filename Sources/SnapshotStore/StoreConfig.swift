import Foundation

/// The store's self-description, written once when the store is created.
public struct StoreConfig: Codable, Sendable, Equatable {
    public static let formatName = "snaplab-store"
    /// Version 2 is an encrypted store (a version 1 reader must not take its sealed chunks for plain ones).
    public static let currentVersion = 2

    public var format: String
    public var version: Int
    /// Fixed chunk size: 64 KiB, qemu's qcow2 cluster and dirty-bitmap granularity, so a scattered 64 KiB
    /// write stores one chunk.
    public var chunkSize: Int
    /// Packs are sealed once they reach this size.
    public var packSize: Int
    public var createdAt: Date
    /// Present in an encrypted store (version 2).
    public var encryption: StoreEncryption? {
        didSet { version = encryption == nil ? 1 : 2 }
    }

    public init(chunkSize: Int = 64 << 10, packSize: Int = 16 << 20, createdAt: Date = Date()) {
        format = Self.formatName
        version = 1
        self.chunkSize = chunkSize
        self.packSize = packSize
        self.createdAt = StoreDates.round(createdAt)
    }
}
