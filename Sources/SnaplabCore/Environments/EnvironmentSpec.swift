import Foundation
import Yams

/// A test environment file (`lab.yaml`): instances by image and count, with data disks from snapshots or empty.
///
/// ```yaml
/// name: web-test
/// instances:
///   - name: web
///     image: web-image          # an image name (the newest available) or ami-…
///     count: 3
///     data:
///       vdb: { snapshot-tag: release=v1 }   # the newest completed snapshot with that tag
///       # or { snapshot: snap-… } or { empty: 1G }
///     user-data: |                          # for cloud-init, with the keys of ssh-authorized-keys
///       #cloud-config
///       packages: [nginx]
///     ssh-authorized-keys: [ "ssh-ed25519 AAAA… me@laptop" ]
/// ```
public struct EnvironmentSpec: Sendable, Equatable {
    public struct Member: Sendable, Equatable {
        public var name: String
        public var image: String
        public var count: Int
        public var memoryMiB: Int?
        public var vcpus: Int?
        public var data: [String: DataSource]
        public var customization: GuestCustomization? = nil
    }

    public enum DataSource: Sendable, Equatable {
        case snapshot(String)
        case snapshotTag(key: String, value: String)
        case empty(UInt64)
    }

    public var name: String
    public var members: [Member]

    private struct File: Decodable {
        struct Member: Decodable {
            var name: String
            var image: String
            var count: Int?
            var memory: Int?
            var vcpus: Int?
            var data: [String: Source]?
            var userData: String?
            var sshAuthorizedKeys: [String]?

            enum CodingKeys: String, CodingKey {
                case name, image, count, memory, vcpus, data
                case userData = "user-data"
                case sshAuthorizedKeys = "ssh-authorized-keys"
            }
        }

        struct Source: Decodable {
            var snapshot: String?
            var snapshotTag: String?
            var empty: String?

            enum CodingKeys: String, CodingKey {
                case snapshot
                case snapshotTag = "snapshot-tag"
                case empty
            }
        }

        var name: String
        var instances: [Member]
    }

    public static func load(_ url: URL) throws(SnaplabError) -> EnvironmentSpec {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else {
            throw SnaplabError(.notFound, "cannot read \(url.path)")
        }
        return try parse(text, source: url.path)
    }

    public static func parse(_ text: String, source: String = "lab.yaml") throws(SnaplabError) -> EnvironmentSpec {
        let file: File
        do {
            file = try YAMLDecoder().decode(File.self, from: text)
        } catch {
            throw SnaplabError(.invalidArgument, "\(source) is not a valid environment file: \(error)")
        }
        guard !file.name.isEmpty, file.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw SnaplabError(.invalidArgument, "\(source): name must be letters, digits, - or _")
        }
        var members: [Member] = []
        for member in file.instances {
            guard !member.name.isEmpty, !members.contains(where: { $0.name == member.name }) else {
                throw SnaplabError(.invalidArgument, "\(source): every instance entry needs its own name")
            }
            let count = member.count ?? 1
            guard (0...20).contains(count) else {
                throw SnaplabError(.invalidArgument, "\(source): count of \(member.name) must be 0–20")
            }
            var data: [String: DataSource] = [:]
            for (device, source) in member.data ?? [:] {
                let given = [source.snapshot != nil, source.snapshotTag != nil, source.empty != nil].filter { $0 }.count
                guard given == 1 else {
                    throw SnaplabError(
                        .invalidArgument,
                        "\(source): data disk \(device) of \(member.name) needs exactly one of snapshot, snapshot-tag, empty"
                    )
                }
                if let snapshot = source.snapshot {
                    data[device] = .snapshot(snapshot)
                } else if let tag = source.snapshotTag {
                    let parts = tag.split(separator: "=", maxSplits: 1).map(String.init)
                    guard parts.count == 2 else {
                        throw SnaplabError(.invalidArgument, "\(source): snapshot-tag '\(tag)' is not KEY=VALUE")
                    }
                    data[device] = .snapshotTag(key: parts[0], value: parts[1])
                } else if let empty = source.empty {
                    data[device] = .empty(try ByteSize.parse(empty))
                }
            }
            var customization: GuestCustomization?
            if member.userData != nil || member.sshAuthorizedKeys != nil {
                customization = GuestCustomization(
                    userData: member.userData.map { Data($0.utf8) }, sshPublicKeys: member.sshAuthorizedKeys ?? [])
                do throws(SnaplabError) {
                    try customization?.validate()
                } catch {
                    throw SnaplabError(.invalidArgument, "\(source): \(member.name): \(error.message)")
                }
            }
            members.append(
                Member(
                    name: member.name, image: member.image, count: count, memoryMiB: member.memory,
                    vcpus: member.vcpus, data: data, customization: customization))
        }
        return EnvironmentSpec(name: file.name, members: members)
    }
}
