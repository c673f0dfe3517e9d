import Foundation
import FoundationXML
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SnaplabCore
import SnaplabTestSupport
import Testing

@testable import SnaplabServer

/// Every EC2 action with random, missing, duplicated, huge and hostile parameters, over real HTTP, for a bounded
/// time: each request must get an EC2 answer (success, or an error with a code) and the server must answer the
/// next one, and every answer must be well-formed XML. The lab's only host is libvirt's `test:///default` driver: domains are defined but no qemu boots,
/// so a request that gets through costs nothing.
@Suite(.serialized) struct APIFuzzTests {
    static let seconds = Double(ProcessInfo.processInfo.environment["SNAPLAB_API_FUZZ_SECONDS"] ?? "") ?? 20

    static let actions = [
        "CreateVolume", "DeleteVolume", "DescribeVolumes", "AttachVolume", "DetachVolume", "CreateSnapshot",
        "CreateSnapshots", "DeleteSnapshot", "DescribeSnapshots", "RegisterImage", "CreateImage", "DeregisterImage",
        "DescribeImages", "RunInstances", "StartInstances", "StopInstances", "TerminateInstances",
        "DescribeInstances", "CreateTags", "DeleteTags", "DescribeTags", "NoSuchAction", "",
    ]

    /// Parameter names the actions read, with `#` for a list position.
    static let names = [
        "Size", "AvailabilityZone", "VolumeId", "VolumeId.#", "SnapshotId", "SnapshotId.#", "ImageId", "ImageId.#",
        "InstanceId", "InstanceId.#", "Device", "Description", "Name", "RootDeviceName", "InstanceType", "MinCount",
        "MaxCount", "MaxResults", "NextToken", "Force", "DeleteAssociatedSnapshots", "ResourceId.#",
        "Tag.#.Key", "Tag.#.Value", "Filter.#.Name", "Filter.#.Value.#", "TagSpecification.#.ResourceType",
        "TagSpecification.#.Tag.#.Key", "TagSpecification.#.Tag.#.Value", "BlockDeviceMapping.#.DeviceName",
        "BlockDeviceMapping.#.Ebs.VolumeSize", "BlockDeviceMapping.#.Ebs.SnapshotId",
        "BlockDeviceMapping.#.Ebs.DeleteOnTermination", "InstanceSpecification.InstanceId",
        "InstanceSpecification.ExcludeBootVolume", "InstanceSpecification.ExcludeDataVolumeId.#", "Version",
    ]

    static let positions = ["1", "2", "0", "-1", "01", "99999999999999999999", "1.1", "", "x"]

    @Test func randomRequestsGetEC2AnswersAndTheServerStaysUp() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-fuzz-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        _ = try await lab.hosts.initialize(
            uri: "test:///default", poolName: "fuzz", poolPath: directory.appendingPathComponent("pool").path)
        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        let (sent, codes) = try await app.test(.live) { client -> (Int, [String: Int]) in
            var generator = SeededGenerator(seed: 0xF022)
            var sent = 0
            var codes: [String: Int] = [:]
            let deadline = Date().addingTimeInterval(Self.seconds)
            while Date() < deadline {
                let body = Self.randomBody(using: &generator, known: try await Self.knownIds(lab))
                let (status, text) = try await client.execute(
                    uri: "/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: body)
                ) { response in (response.status, String(buffer: response.body)) }
                let code = text.firstMatch(of: /<Code>([^<]*)<\/Code>/).map { String($0.1) }
                if !XMLParser(data: Data(text.utf8)).parse() {
                    Issue.record("not well-formed XML for \(body.prefix(2000)):\n\(text.prefix(600))")
                }
                if status == .ok {
                    codes["OK", default: 0] += 1
                } else if let code, status.code < 500 {
                    codes[code, default: 0] += 1
                } else {
                    Issue.record("\(body.prefix(2000))\n→ \(status) \(text.prefix(600))")
                }
                sent += 1
            }
            try await client.execute(
                uri: "/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "Action=DescribeVolumes&Version=2016-11-15")
            ) { response in
                #expect(response.status == .ok, "the server still answers")
            }
            return (sent, codes)
        }
        #expect(sent > 50)
        print("api fuzz: \(sent) requests in \(Int(Self.seconds)) s: \(codes.sorted { $0.value > $1.value })")
    }

    /// Ids of what exists, so that some requests get past "not found".
    static func knownIds(_ lab: Lab) async throws -> [String] {
        let volumes = try await lab.volumes.list().map(\.id)
        let snapshots = try await lab.snapshots.list().map(\.id)
        let instances = try await lab.catalog.instances().map(\.id)
        return volumes + snapshots + instances
    }

    static func randomBody(using generator: inout SeededGenerator, known: [String]) -> String {
        var pairs: [(String, String)] = []
        let action = actions.randomElement(using: &generator)!
        if Int.random(in: 0..<20, using: &generator) != 0 { pairs.append(("Action", action)) }
        if Int.random(in: 0..<10, using: &generator) != 0 { pairs.append(("Version", "2016-11-15")) }
        for _ in 0..<Int.random(in: 0...8, using: &generator) {
            var name = names.randomElement(using: &generator)!
            while let hash = name.firstRange(of: "#") {
                let position =
                    Int.random(in: 0..<4, using: &generator) == 0
                    ? positions.randomElement(using: &generator)! : String(Int.random(in: 1...3, using: &generator))
                name.replaceSubrange(hash, with: position)
            }
            let value = randomValue(using: &generator, known: known)
            pairs.append((name, value))
            // Duplicated keys.
            if Int.random(in: 0..<10, using: &generator) == 0 {
                pairs.append((name, randomValue(using: &generator, known: known)))
            }
        }
        pairs.shuffle(using: &generator)
        return pairs.map { "\(encode($0.0))=\(encode($0.1))" }.joined(separator: "&")
    }

    static func randomValue(using generator: inout SeededGenerator, known: [String]) -> String {
        switch Int.random(in: 0..<14, using: &generator) {
        case 0: return ""
        case 1:
            return ["-1", "0", "1", "2", "16384", "16385", "-9223372036854775808", "9223372036854775807"]
                .randomElement(using: &generator)!
        case 2: return "18446744073709551616" + String(repeating: "9", count: Int.random(in: 0...40, using: &generator))
        case 3: return known.randomElement(using: &generator) ?? "vol-0123456789abcdef0"
        case 4: return ["vol-", "snap-", "ami-", "i-"].randomElement(using: &generator)! + "0123456789abcdef0"
        case 5:
            // Now and then past the 1 MiB a request may have.
            let huge = Int.random(in: 0..<8, using: &generator) == 0
            return String(repeating: "A", count: huge ? 1_100_000 : Int.random(in: 1000...200_000, using: &generator))
        case 6: return "a\u{0}b\u{1}c\u{7f}"
        case 7: return "<x>&amp;\"'</x>]]>"
        case 8: return "日本 ✓ \u{202E}rtl \u{FFFF}"
        case 9: return ["true", "false", "TRUE", "yes"].randomElement(using: &generator)!
        case 10:
            return ["/dev/vda", "/dev/vdb", "/dev/sdz", "/dev/../etc/passwd", "vdq"].randomElement(using: &generator)!
        case 11: return ["volume", "snapshot", "image", "instance", "*", "?"].randomElement(using: &generator)!
        case 12: return ["tag:Name", "volume-id", "status", "tag-key", "owner-id"].randomElement(using: &generator)!
        default:
            return String(
                (0..<Int.random(in: 1...40, using: &generator)).map { _ in
                    Character(Unicode.Scalar(UInt8.random(in: 32...126, using: &generator)))
                })
        }
    }

    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
