import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SnaplabCore
import Testing

@testable import SnaplabServer

/// With access keys, `/metrics` answers an access key as HTTP basic auth (what Prometheus sends) and nothing
/// else; without keys (loopback only) it is open.
@Suite struct MetricsAuthTests {
    @Test func anAccessKeyAsBasicAuthIsTheWayIn() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-metrics-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        try await lab.catalog.save(Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p"))

        let open = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        try await open.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                let text = String(buffer: response.body)
                #expect(text.contains("snaplab_snapshots{state=\"completed\"} 0"))
                #expect(text.contains("snaplab_host_up{host=\"local\"} 1"))
            }
        }

        let key = try AccessKeys.create(lab.paths)
        let guarded = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        try await guarded.test(.router) { client in
            try await client.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.wwwAuthenticate] == nil, "no challenge a browser would answer")
            }
            let wrong = Data("\(key.accessKeyId):not-the-secret".utf8).base64EncodedString()
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Basic \(wrong)"]) {
                response in
                #expect(response.status == .unauthorized)
            }
            let right = Data("\(key.accessKeyId):\(key.secretAccessKey)".utf8).base64EncodedString()
            try await client.execute(uri: "/metrics", method: .get, headers: [.authorization: "Basic \(right)"]) {
                response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("# TYPE snaplab_snapshots gauge"))
            }
        }
    }
}
