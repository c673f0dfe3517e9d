/// EC2's instance states; the moves between them are in the catalog's transition table.
public enum InstanceState: String, Codable, Sendable, CaseIterable {
    case pending
    case running
    case stopping
    case stopped
    case shuttingDown = "shutting-down"
    case terminated

    /// Whether the instance still holds its volumes and a libvirt definition.
    public var isLive: Bool { self != .terminated }
}
