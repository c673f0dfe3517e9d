import Foundation
import FoundationXML
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SnaplabCore
import Testing

@testable import SnaplabServer

/// Listings through the EC2 and JSON APIs: filters and pages done by the catalog, stable while snapshots are
/// added, streamed whole without `MaxResults`; the change feed and its event stream.
@Suite struct ListingPagingTests {
    static func lab(snapshots: Int) async throws -> (Lab, URL) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-paging-\(UUID().uuidString)")
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        try await CatalogFiller(lab: lab).fillCatalog(snapshots: snapshots, now: Date())
        return (lab, directory)
    }

    /// The snapshot ids in an EC2 answer (checked to be well-formed XML) and its `nextToken`.
    static func snapshotIds(_ body: ByteBuffer) throws -> (ids: [String], next: String?) {
        let data = Data(buffer: body)
        let parser = XMLParser(data: data)
        #expect(parser.parse(), "well-formed XML: \(String(decoding: data.prefix(300), as: UTF8.self))")
        let text = String(decoding: data, as: UTF8.self)
        let ids = text.matches(of: /<snapshotId>([^<]+)<\/snapshotId>/).map { String($0.1) }
        let next = text.firstMatch(of: /<nextToken>([^<]+)<\/nextToken>/).map { String($0.1) }
        return (ids, next)
    }

    static func form(_ text: String) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~=&")
        return ByteBuffer(string: (text + "&Version=2016-11-15").addingPercentEncoding(withAllowedCharacters: allowed)!)
    }

    static let formHeaders: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    @Test func ec2PagesWithFiltersHaveNoDuplicatesOrGapsWhileSnapshotsAreAdded() async throws {
        let (lab, directory) = try await Self.lab(snapshots: 900)
        defer { try? FileManager.default.removeItem(at: directory) }
        let team3 = try await lab.catalog.snapshots(
            matching: SnapshotQuery(tags: [TagFilter(key: "team", values: ["t3"])])
        ).map(\.id)
        #expect(team3.count == 90)
        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            var seen: [String] = []
            var token: String?
            var added = 0
            repeat {
                let tokenField = token.map { "&NextToken=\($0)" } ?? ""
                let body = Self.form(
                    "Action=DescribeSnapshots&MaxResults=25&Filter.1.Name=tag:team&Filter.1.Value.1=t3\(tokenField)")
                let page = try await client.execute(uri: "/", method: .post, headers: Self.formHeaders, body: body) {
                    response in
                    #expect(response.status == .ok)
                    return try Self.snapshotIds(response.body)
                }
                #expect(page.ids.count <= 25)
                seen += page.ids
                token = page.next
                // A newer snapshot of a team-3 volume lands between two pages.
                try await lab.catalog.insert(
                    Snapshot(
                        id: ResourceID.generate(.snapshot), volumeId: CatalogFiller.volumeId(3), volumeRole: .data,
                        volumeSize: 1 << 30, state: .completed, progress: 100,
                        createdAt: Date().addingTimeInterval(Double(added)), tags: ["team": "t3"]))
                added += 1
            } while token != nil
            #expect(Set(seen).count == seen.count, "no snapshot twice")
            #expect(Array(seen.prefix(team3.count)) == team3, "every one that existed, in order")

            // Everything, streamed page by page (more than one page of the catalog's 1000).
            let all = try await client.execute(
                uri: "/", method: .post, headers: Self.formHeaders, body: Self.form("Action=DescribeSnapshots")
            ) { response in try Self.snapshotIds(response.body) }
            #expect(all.ids.count == 900 + added)
            #expect(all.next == nil)

            // Wildcards and filters on computed values.
            for (filters, expected) in [
                ("Filter.1.Name=tag:team&Filter.1.Value.1=t?", 900 + added),
                ("Filter.1.Name=tag-key&Filter.1.Value.1=bat*", 900),
                ("Filter.1.Name=tag-value&Filter.1.Value.1=b1", 100),
                ("Filter.1.Name=volume-id&Filter.1.Value.1=\(CatalogFiller.volumeId(7))", 5),
                ("Filter.1.Name=progress&Filter.1.Value.1=100%", 900 + added),
                ("Filter.1.Name=status&Filter.1.Value.1=pending", 0),
                ("Filter.1.Name=owner-id&Filter.1.Value.1=123", 0),
            ] {
                let found = try await client.execute(
                    uri: "/", method: .post, headers: Self.formHeaders,
                    body: Self.form("Action=DescribeSnapshots&\(filters)")
                ) { response in try Self.snapshotIds(response.body) }
                #expect(found.ids.count == expected, "\(filters)")
            }

            for bad in [
                "NextToken=bm90LWEtdG9rZW4=&MaxResults=5", "MaxResults=0", "Filter.1.Name=colour&Filter.1.Value.1=x",
            ] {
                try await client.execute(
                    uri: "/", method: .post, headers: Self.formHeaders,
                    body: Self.form("Action=DescribeSnapshots&\(bad)")
                ) { response in
                    #expect(response.status == .badRequest, "\(bad)")
                    #expect(String(buffer: response.body).contains("InvalidParameterValue"), "\(bad)")
                }
            }
        }
    }

    @Test func jsonListingsPageFilterAndStream() async throws {
        let (lab, directory) = try await Self.lab(snapshots: 1500)
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            let everything = try await client.execute(uri: "/api/snapshots", method: .get) { response in
                #expect(response.status == .ok)
                return try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [[String: Any]] ?? []
            }
            #expect(everything.count == 1500, "one array across the streamed pages")
            var ids: [String] = []
            var after: String?
            repeat {
                let query = "order=newest&limit=40&tag=team=t1" + (after.map { "&after=\($0)" } ?? "")
                let page = try await client.execute(uri: "/api/snapshots?\(query)", method: .get) { response in
                    #expect(response.status == .ok)
                    return try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any] ?? [:]
                }
                ids += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                after = (page["next"] as? String)?.addingPercentEncoding(withAllowedCharacters: .alphanumerics)
            } while after != nil
            let expected = try await lab.catalog.snapshots(
                matching: SnapshotQuery(tags: [TagFilter(key: "team", values: ["t1"])])
            ).map(\.id)
            #expect(ids == expected.reversed(), "newest first, all 150")
            try await client.execute(uri: "/api/snapshots?limit=5000", method: .get) { response in
                #expect(response.status == .badRequest)
            }
        }
    }

    @Test func theChangeFeedAndItsEventStreamCarryWhatChanged() async throws {
        let (lab, directory) = try await Self.lab(snapshots: 50)
        defer { try? FileManager.default.removeItem(at: directory) }
        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        let changed = CatalogFiller.snapshotId(7)
        try await app.test(.router) { client in
            let cursor = try await client.execute(uri: "/api/changes", method: .get) { response in
                try JSONDecoder().decode(CursorOnly.self, from: Data(buffer: response.body)).cursor
            }
            #expect(cursor > 0)
            try await lab.tags.create([changed], ["colour": "blue"])
            let changes = try await client.execute(uri: "/api/changes?since=\(cursor)", method: .get) { response in
                String(buffer: response.body)
            }
            #expect(changes.contains(changed) && changes.contains("blue"))
            #expect(!changes.contains(CatalogFiller.snapshotId(8)), "only what changed")

            let later = try await lab.catalog.changeCursor()
            let other = CatalogFiller.snapshotId(9)
            // The change lands while the stream is open.
            async let change: Void = Self.delete(other, from: lab, after: .milliseconds(700))
            let stream = try await client.execute(uri: "/api/events?since=\(later)&lifetime=3", method: .get) {
                response in
                #expect(response.headers[.contentType] == "text/event-stream")
                return String(buffer: response.body)
            }
            try await change
            #expect(stream.hasPrefix("retry: 1000\nevent: cursor\ndata: \(later)\n\n"), "\(stream.prefix(200))")
            #expect(stream.contains("event: changes\ndata: "), "\(stream.prefix(400))")
            #expect(
                stream.contains("\"deleted\":[{\"id\":\"\(other)\",\"kind\":\"snapshot\"}]"), "\(stream.prefix(600))")
        }
    }

    static func delete(_ id: String, from lab: Lab, after delay: Duration) async throws {
        try await Task.sleep(for: delay)
        try await lab.catalog.deleteSnapshot(id)
    }

    struct CursorOnly: Decodable { var cursor: Int64 }
}
