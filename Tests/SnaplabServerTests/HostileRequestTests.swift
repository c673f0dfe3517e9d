import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SnaplabCore
import Testing

@testable import SnaplabServer

/// Requests that used to trap the server or store what its answers cannot carry get an EC2 error instead, and the
/// server answers the next request. No host is needed: every one is refused before the lab touches libvirt.
@Suite struct HostileRequestTests {
    static let refused: [(name: String, body: String)] = [
        (
            "negative mapping size",
            "Action=RunInstances&ImageId=ami-0123456789abcdef0&BlockDeviceMapping.1.DeviceName=/dev/vdb&BlockDeviceMapping.1.Ebs.VolumeSize=-5"
        ),
        (
            "mapping size past 16 TiB",
            "Action=RunInstances&ImageId=ami-0123456789abcdef0&BlockDeviceMapping.1.DeviceName=/dev/vdb&BlockDeviceMapping.1.Ebs.VolumeSize=16385"
        ),
        ("size that wraps a shift", "Action=CreateVolume&AvailabilityZone=lab&Size=17179869185"),
        ("size past Int", "Action=CreateVolume&AvailabilityZone=lab&Size=99999999999999999999999"),
        ("zero size", "Action=CreateVolume&AvailabilityZone=lab&Size=0"),
        (
            "register mapping size",
            "Action=RegisterImage&Name=x&RootDeviceName=/dev/vda&BlockDeviceMapping.1.DeviceName=/dev/vda&BlockDeviceMapping.1.Ebs.SnapshotId=snap-0123456789abcdef0&BlockDeviceMapping.2.DeviceName=/dev/vdb&BlockDeviceMapping.2.Ebs.VolumeSize=-1"
        ),
        ("a fleet", "Action=RunInstances&ImageId=ami-0123456789abcdef0&MinCount=1&MaxCount=100000"),
        (
            "control character in a tag",
            "Action=CreateTags&ResourceId.1=vol-0123456789abcdef0&Tag.1.Key=a&Tag.1.Value=a%01b"
        ),
        (
            "control character in a tag specification",
            "Action=CreateVolume&Size=1&TagSpecification.1.ResourceType=volume&TagSpecification.1.Tag.1.Key=k%00&TagSpecification.1.Tag.1.Value=v"
        ),
        (
            "reserved tag key",
            "Action=CreateTags&ResourceId.1=snap-0123456789abcdef0&Tag.1.Key=snaplab%3Apolicy&Tag.1.Value=pol-1"
        ),
        ("removing a reserved tag", "Action=DeleteTags&ResourceId.1=snap-0123456789abcdef0&Tag.1.Key=snaplab%3Aslot"),
        (
            "control character in a description",
            "Action=CreateSnapshot&VolumeId=vol-0123456789abcdef0&Description=a%01b"
        ),
        ("U+FFFF in an image name", "Action=RegisterImage&Name=a%EF%BF%BFb&RootDeviceName=/dev/vda"),
        ("user data not base64", "Action=RunInstances&ImageId=ami-0123456789abcdef0&UserData=%25%25not-base64"),
        (
            "user data past 16 KiB",
            "Action=RunInstances&ImageId=ami-0123456789abcdef0&UserData=" + String(repeating: "QUFB", count: 5_600)
        ),
    ]

    @Test func hostileParametersGetInvalidParameterValueAndTheServerStaysUp() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-hostile-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            for request in Self.refused {
                try await client.execute(
                    uri: "/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                    body: ByteBuffer(string: request.body + "&Version=2016-11-15")
                ) { response in
                    let text = String(buffer: response.body)
                    #expect(response.status == .badRequest, "\(request.name): \(response.status) \(text)")
                    #expect(text.contains("<Code>InvalidParameterValue</Code>"), "\(request.name): \(text)")
                }
            }
            try await client.execute(
                uri: "/", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "Action=DescribeVolumes&Version=2016-11-15")
            ) { response in
                #expect(response.status == .ok)
            }
        }
        #expect(try await lab.volumes.list().isEmpty, "nothing was created")
    }

    @Test func userTagsFollowEC2sLimits() throws {
        #expect(throws: SnaplabError.self) { try TagRules.checkUserTags(["": "v"]) }
        #expect(throws: SnaplabError.self) { try TagRules.checkUserTags([String(repeating: "k", count: 129): "v"]) }
        #expect(throws: SnaplabError.self) { try TagRules.checkUserTags(["k": String(repeating: "v", count: 257)]) }
        #expect(throws: SnaplabError.self) { try TagRules.checkUserTags(["k": "line\nbreak"]) }
        #expect(throws: SnaplabError.self) { try TagRules.checkUserTags(["SnapLab:Environment": "web"]) }
        try TagRules.checkUserTags(["team": "Ünïcode ✓ 日本", "empty": ""])
    }

    @Test func crossSiteAndRebindingRequestsAreRefusedAndToolsAreNot() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-guard-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration(port: 8780))
        let runInstances = ByteBuffer(string: "Action=RunInstances&ImageId=web&MaxCount=20&Version=2016-11-15")
        @Sendable func form(_ extra: [(String, String)] = []) -> HTTPFields {
            var fields: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]
            for (name, value) in extra { fields.append(HTTPField(name: HTTPField.Name(name)!, value: value)) }
            return fields
        }
        let refused: [(String, HTTPFields, String, ByteBuffer)] = [
            ("a page of another site", form([("Origin", "http://evil.example")]), "/", runInstances),
            ("a browser's cross-site fetch", form([("Sec-Fetch-Site", "cross-site")]), "/", runInstances),
            ("a rebound DNS name", form([("Host", "evil.example:8780")]), "/", runInstances),
            ("a form posted to the console API", form(), "/api/volumes/vol-0123456789abcdef0/snapshot", ByteBuffer()),
        ]
        try await app.test(.router) { client in
            for (name, headers, uri, body) in refused {
                try await client.execute(uri: uri, method: .post, headers: headers, body: body) { response in
                    #expect(response.status == .forbidden, "\(name): \(response.status)")
                }
            }
            let sameOrigin = form([
                ("Host", "127.0.0.1:8780"), ("Origin", "http://127.0.0.1:8780"), ("Sec-Fetch-Site", "same-origin"),
            ])
            try await client.execute(
                uri: "/", method: .post, headers: sameOrigin,
                body: ByteBuffer(string: "Action=DescribeVolumes&Version=2016-11-15")
            ) { response in
                #expect(response.status == .ok, "the console's own page")
            }
            try await client.execute(
                uri: "/", method: .post, headers: form([("Host", "localhost:8780")]),
                body: ByteBuffer(string: "Action=DescribeVolumes&Version=2016-11-15")
            ) { response in
                #expect(response.status == .ok, "the aws CLI (no Origin, no Sec-Fetch-Site)")
            }
        }
        #expect(try await lab.instances.list().isEmpty)
    }
}
