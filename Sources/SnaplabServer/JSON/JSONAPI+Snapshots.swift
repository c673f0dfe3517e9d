import Foundation
import Hummingbird
import SnaplabCore

extension JSONAPI {
    static let streamedPageSize = 1000

    /// `GET /api/snapshots[?volume=…&state=…&tag=KEY[=VALUE]…&since=ISO-DATE][&limit=N[&after=TOKEN]]
    /// [&order=newest]`: filtered in the catalog, oldest first unless `order=newest`. With `limit`, one page:
    /// `{"items": […], "next": TOKEN or null}`; without, every match as one array, written a page at a time.
    func listSnapshots(_ request: Request) async throws -> Response {
        if let denied = auth.check(request) { return denied }
        let parameters = request.uri.queryParameters
        let query: SnapshotQuery
        let token: PageToken?
        let limit: Int?
        do throws(SnaplabError) {
            query = try Self.snapshotQuery(parameters)
            token = try parameters.get("after").map { text throws(SnaplabError) in try PageToken(text: text) }
            limit = try parameters.get("limit").map { text throws(SnaplabError) in
                guard let value = Int(text), (1...1000).contains(value) else {
                    throw SnaplabError(.invalidArgument, "limit must be a number from 1 to 1000, not '\(text)'")
                }
                return value
            }
        } catch {
            return try await guarded(request) { () throws -> [Snapshot] in throw error }
        }
        let catalog = lab.catalog
        let newestFirst = parameters.get("order") == "newest"
        let first: CatalogPage<Snapshot>
        do throws(SnaplabError) {
            first = try await catalog.snapshots(
                matching: query, pageSize: limit ?? Self.streamedPageSize, after: token, newestFirst: newestFirst)
        } catch {
            return try await guarded(request) { () throws -> [Snapshot] in throw error }
        }
        if limit != nil {
            // `{"items": […], "next": TOKEN or null}`
            var json = JSONWriter(capacity: first.items.count * 700 + 64)
            json.beginObject()
            json.key("items")
            json.beginArray()
            for snapshot in first.items { snapshot.writeJSON(into: &json) }
            json.endArray()
            json.key("next")
            if let next = first.next { json.string(next.text) } else { json.raw("null") }
            json.endObject()
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: json.bytes)))
        }
        return Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: ResponseBody { writer in
                var page = first
                var json = JSONWriter(capacity: 1 << 20)
                json.beginArray()
                while true {
                    for snapshot in page.items { snapshot.writeJSON(into: &json) }
                    guard let next = page.next else { break }
                    try await writer.write(ByteBuffer(bytes: json.bytes))
                    json.removeAll(continuingAfterValue: true)
                    page = try await catalog.snapshots(
                        matching: query, pageSize: Self.streamedPageSize, after: next, newestFirst: newestFirst)
                }
                json.endArray()
                try await writer.write(ByteBuffer(bytes: json.bytes))
                try await writer.finish(nil)
            })
    }

    static func snapshotQuery(_ parameters: Parameters) throws(SnaplabError) -> SnapshotQuery {
        var query = SnapshotQuery(volumeIds: parameters.getAll("volume"))
        for state in parameters.getAll("state") {
            guard let parsed = SnapshotState(rawValue: state) else {
                throw SnaplabError(.invalidArgument, "state '\(state)' is not pending, completed or error")
            }
            query.states.append(parsed)
        }
        for tag in parameters.getAll("tag") {
            guard let filter = TagFilter(parsing: tag) else {
                throw SnaplabError(.invalidArgument, "tag '\(tag)' names no key; use KEY or KEY=VALUE")
            }
            query.tags.append(filter)
        }
        if let since = parameters.get("since") {
            guard let date = try? Date.ISO8601FormatStyle().parse(since) else {
                throw SnaplabError(
                    .invalidArgument, "since '\(since)' is not an ISO 8601 time such as 2026-12-01T10:00:00Z")
            }
            query.since = date
        }
        return query
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
