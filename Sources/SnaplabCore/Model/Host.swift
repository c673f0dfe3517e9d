import Foundation

/// A libvirt host the lab runs instances on, with the storage pool its volumes live in.
public struct Host: Codable, Sendable, Equatable {
    public var name: String
    public var uri: String
    public var poolName: String
    public var poolPath: String
    public var createdAt: Date

    public init(name: String, uri: String, poolName: String, poolPath: String, createdAt: Date = Date()) {
        self.name = name
        self.uri = uri
        self.poolName = poolName
        self.poolPath = poolPath
        self.createdAt = createdAt
    }

    /// Whether the host's libvirt runs on this machine (`qemu:///system`, `qemu:///session`): its pool's files are
    /// this machine's files. Any other host is reached through libvirt alone: bytes go by libvirt's streams.
    public var isOnThisMachine: Bool { uri.hasPrefix("qemu:///") }
}
