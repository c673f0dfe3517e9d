import Foundation
import HTTPTypes
import Hummingbird
import ServiceLifecycle
import SnaplabCore

extension JSONAPI {
    /// How often an event stream looks for a new change (one indexed read), and how long one stream lasts
    /// before the browser's EventSource reconnects with `Last-Event-ID` (so no stream outlives its use).
    static let eventPollInterval = Duration.milliseconds(250)
    static let eventStreamLifetime = Duration.seconds(60)

    /// `GET /api/changes?since=CURSOR`: what changed after the cursor (`since=0`, or none: the cursor only).
    func changes(_ request: Request) async throws -> Response {
        let since = request.uri.queryParameters.get("since")
        return try await guarded(request) {
            guard let since else { return CatalogChanges(cursor: try await lab.catalog.changeCursor(), reset: true) }
            guard let cursor = Int64(since), cursor >= 0 else {
                throw SnaplabError(.invalidArgument, "since must be a cursor from an earlier answer, not '\(since)'")
            }
            return try await lab.catalog.changes(since: cursor)
        }
    }

    /// `GET /api/events[?since=CURSOR][&lifetime=SECONDS]`: server-sent events. The first, `cursor`, gives where
    /// the stream starts; then one `changes` event (the `/api/changes` answer, `id:` its cursor) whenever the
    /// catalog moves. The stream ends after `lifetime` (60 s; 1–300), and the browser reconnects.
    func events(_ request: Request) -> Response {
        if let denied = auth.check(request) { return denied }
        let resumeFrom = request.headers[HTTPField.Name("Last-Event-ID")!] ?? request.uri.queryParameters.get("since")
        let catalog = lab.catalog
        let lifetime =
            request.uri.queryParameters.get("lifetime").flatMap(Int.init).map {
                Duration.seconds(min(300, max(1, $0)))
            } ?? Self.eventStreamLifetime
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-store"],
            body: ResponseBody { writer in
                let encoder = Self.encoder()
                var cursor = try await catalog.changeCursor()
                if let resumeFrom, let resumed = Int64(resumeFrom), resumed >= 0 { cursor = resumed }
                try await writer.write(ByteBuffer(string: "retry: 1000\nevent: cursor\ndata: \(cursor)\n\n"))
                let clock = ContinuousClock()
                let end = clock.now.advanced(by: lifetime)
                var lastWrite = clock.now
                while clock.now < end, !Task.isCancelled, !Task.isShuttingDownGracefully {
                    if try await catalog.changeCursor() != cursor {
                        let changes = try await catalog.changes(since: cursor)
                        let data = String(decoding: try encoder.encode(changes), as: UTF8.self)
                        try await writer.write(
                            ByteBuffer(string: "id: \(changes.cursor)\nevent: changes\ndata: \(data)\n\n"))
                        cursor = changes.cursor
                        lastWrite = clock.now
                    } else if clock.now - lastWrite > .seconds(15) {
                        // A comment keeps proxies from closing an idle stream and finds clients that left.
                        try await writer.write(ByteBuffer(string: ": idle\n\n"))
                        lastWrite = clock.now
                    }
                    try? await Task.sleep(for: Self.eventPollInterval)
                }
                try await writer.finish(nil)
            })
    }
}
