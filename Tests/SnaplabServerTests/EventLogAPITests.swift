import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SnaplabCore
import Testing

@testable import SnaplabServer

/// `GET /api/event-log` pages the catalog's event log as JSON; bad parameters are a 400.
@Suite struct EventLogAPITests {
    @Test func theLogPagesAsJSON() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-event-log-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        try await lab.catalog.save(Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p"))
        let id = ResourceID.generate(.volume)
        try await lab.catalog.insert(
            Volume(
                id: id, host: "local", role: .data, size: 1 << 20, state: .creating, poolVolume: "\(id).qcow2",
                path: "/p/\(id).qcow2"))
        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/event-log?after=0&resource=\(id)", method: .get) { response in
                #expect(response.status == .ok)
                let events = try decoder.decode([CatalogEvent].self, from: Data(buffer: response.body))
                #expect(events.map(\.action) == ["created"] && events.first?.toState == "creating")
            }
            try await client.execute(uri: "/api/event-log?limit=0", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }
}
