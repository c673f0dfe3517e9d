import Foundation

/// Where a lab keeps its state on the controller's machine. A value type of computed paths.
public struct LabPaths: Sendable, Equatable {
    public let stateDirectory: URL
    /// Where image builds are cached; shared between labs when SNAPLAB_IMAGE_CACHE says so.
    public let imageCache: URL

    public init(stateDirectory: URL, imageCache: URL? = nil) {
        self.stateDirectory = stateDirectory.standardizedFileURL
        self.imageCache = imageCache ?? stateDirectory.appendingPathComponent("image-cache")
    }

    public var catalog: URL { stateDirectory.appendingPathComponent("catalog.sqlite") }
    public var consoles: URL { stateDirectory.appendingPathComponent("consoles") }
    /// Kernels and initramfs files, named by content.
    public var bootArtifacts: URL { stateDirectory.appendingPathComponent("boot") }
    /// The default storage pool directory.
    public var defaultPool: URL { stateDirectory.appendingPathComponent("pool") }

    /// Sockets and scratch files of running backup jobs (writable by the qemu user).
    public var exports: URL { stateDirectory.appendingPathComponent("exports") }

    /// Volumes on their way to or from a host on another machine, which is reached through libvirt's streams.
    public var transfers: URL { stateDirectory.appendingPathComponent("transfers") }

    /// Every boot sweep's records, one JSON file per run, for the control screen's plots.
    public var bootRuns: URL { stateDirectory.appendingPathComponent("boot-runs") }

    public func console(of instanceId: String) -> URL {
        consoles.appendingPathComponent("\(instanceId).log")
    }
}
