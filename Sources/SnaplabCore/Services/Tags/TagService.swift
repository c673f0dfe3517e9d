import Foundation
import Logging

/// A tag on a resource (EC2's DescribeTags row).
public struct ResourceTag: Sendable, Codable, Equatable {
    public var resourceId: String
    /// `volume`, `snapshot`, `image`, `instance`.
    public var resourceType: String
    public var key: String
    public var value: String
}

/// Tags on volumes, snapshots, images and instances (EC2's CreateTags, DeleteTags, DescribeTags).
public final class TagService: Sendable {
    let logger = Logger(label: "snaplab.tags")
    let catalog: Catalog

    init(catalog: Catalog) {
        self.catalog = catalog
    }

    /// Adds or overwrites tags on resources (volumes, snapshots, images, instances), all or nothing.
    public func create(_ resourceIds: [String], _ tags: [String: String]) async throws(SnaplabError) {
        try TagRules.checkUserTags(tags)
        for id in resourceIds { _ = try await currentTags(of: id) }
        for id in resourceIds {
            try await updateTags(of: id) { current in current.merge(tags) { $1 } }
        }
    }

    /// Removes tags: a key with a value removes it only when the value matches; a key with nil removes it.
    public func delete(_ resourceIds: [String], _ tags: [String: String?]) async throws(SnaplabError) {
        try TagRules.checkUserKeys(tags.keys)
        for id in resourceIds { _ = try await currentTags(of: id) }
        for id in resourceIds {
            try await updateTags(of: id) { current in
                for (key, value) in tags where value == nil || current[key] == value {
                    current.removeValue(forKey: key)
                }
            }
        }
    }

    /// Every tag of every resource the lab has.
    public func all() async throws(SnaplabError) -> [ResourceTag] {
        var result: [ResourceTag] = []
        func add(_ id: String, _ type: String, _ tags: [String: String]) {
            for (key, value) in tags.sorted(by: { $0.key < $1.key }) {
                result.append(ResourceTag(resourceId: id, resourceType: type, key: key, value: value))
            }
        }
        for volume in try await catalog.volumes() { add(volume.id, "volume", volume.tags) }
        for snapshot in try await catalog.snapshots() { add(snapshot.id, "snapshot", snapshot.tags) }
        for image in try await catalog.images() where image.state != .deregistered {
            add(image.id, "image", image.tags)
        }
        for instance in try await catalog.instances() where instance.state != .terminated {
            add(instance.id, "instance", instance.tags)
        }
        return result
    }

    private func currentTags(of id: String) async throws(SnaplabError) -> [String: String] {
        switch id.split(separator: "-").first {
        case "vol": return try await catalog.volume(id).tags
        case "snap": return try await catalog.snapshot(id).tags
        case "ami": return try await catalog.image(id).tags
        case "i": return try await catalog.instance(id).tags
        default: throw SnaplabError(.invalidArgument, "'\(id)' is not a taggable resource id (vol-, snap-, ami-, i-)")
        }
    }

    /// Changes only the tags column, re-read and written in one transaction: a state change made meanwhile (an
    /// attach, a snapshot completing) is neither lost nor undone.
    private func updateTags(of id: String, _ change: @escaping @Sendable (inout [String: String]) -> Void)
        async throws(SnaplabError)
    {
        switch id.split(separator: "-").first {
        case "vol": try await catalog.updateTags(Volume.self, id, change)
        case "snap": try await catalog.updateTags(Snapshot.self, id, change)
        case "ami": try await catalog.updateTags(MachineImage.self, id, change)
        default: try await catalog.updateTags(Instance.self, id, change)
        }
    }
}
