import Foundation
import Hummingbird
import SnaplabCore

/// The control screen's actions beyond the one-click ones: restore to an instance, attach, detach, tags,
/// a console's tail; and the boot bench's kept runs as plots.
extension JSONAPI {
    func registerActions(on router: Router<BasicRequestContext>) {
        router.post("/api/snapshots/:id/restore-to-instance") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = await Self.jsonBody(request)
            return try await guarded(request) {
                try await lab.restoreToInstance(id, instanceId: body["instanceId"] as? String)
            }
        }
        router.post("/api/volumes/:id/attach") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = await Self.jsonBody(request)
            return try await guarded(request) {
                guard let instanceId = body["instanceId"] as? String else {
                    throw SnaplabError(.invalidArgument, "say which instance: {\"instanceId\": \"i-…\"}")
                }
                return try await lab.instances.attach(id, to: instanceId)
            }
        }
        router.post("/api/volumes/:id/detach") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { try await lab.instances.detach(id) }
        }
        router.post("/api/resources/:id/tags") { request, context in
            let id = context.parameters.get("id") ?? ""
            let body = await Self.jsonBody(request)
            return try await guarded(request) { try await editTags(id, body) }
        }
        router.get("/api/instances/:id/console") { request, context in
            let id = context.parameters.get("id") ?? ""
            let bytes = request.uri.queryParameters.get("bytes").flatMap(Int.init) ?? 16 << 10
            return try await guarded(request) {
                guard (1...(1 << 20)).contains(bytes) else {
                    throw SnaplabError(.invalidArgument, "bytes must be from 1 to 1048576")
                }
                let text = try await lab.instances.console(id)
                return ["text": String(decoding: Data(text.utf8).suffix(bytes), as: UTF8.self)]
            }
        }
        router.get("/api/boot-runs") { request, _ in
            try await guarded(request) { try BootRunArchive.list(in: lab.paths) }
        }
        router.get("/api/boot-runs/:name/plot.svg") { request, context in
            let name = context.parameters.get("name") ?? ""
            if let denied = auth.check(request) { return denied }
            let records: [BootRecord]
            do throws(SnaplabError) {
                records = try BootRunArchive.records(of: name, in: lab.paths)
            } catch {
                return try await guarded(request) { () throws -> [String] in throw error }
            }
            return Response(
                status: .ok, headers: [.contentType: "image/svg+xml"],
                body: .init(byteBuffer: ByteBuffer(string: BootPlot.svg(records, title: "Boot run \(name)"))))
        }
    }

    /// `{"set": {"KEY": "VALUE"}, "remove": ["KEY"]}`: the resource's tags after the change.
    private func editTags(_ id: String, _ body: [String: Any]) async throws(SnaplabError) -> [String: String] {
        let set = body["set"] as? [String: String] ?? [:]
        let remove = body["remove"] as? [String] ?? []
        guard !set.isEmpty || !remove.isEmpty else {
            throw SnaplabError(.invalidArgument, "nothing to change: give {\"set\": {…}} or {\"remove\": […]}")
        }
        if !set.isEmpty { try await lab.tags.create([id], set) }
        if !remove.isEmpty {
            try await lab.tags.delete([id], Dictionary(uniqueKeysWithValues: remove.map { ($0, nil) }))
        }
        return Dictionary(
            try await lab.tags.all().filter { $0.resourceId == id }.map { ($0.key, $0.value) },
            uniquingKeysWith: { _, last in last })
    }

    /// The request's JSON object, or an empty one (a missing or malformed body means "no options").
    static func jsonBody(_ request: Request) async -> [String: Any] {
        var request = request
        guard let buffer = try? await request.collectBody(upTo: 64 << 10) else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(buffer: buffer)) as? [String: Any]) ?? [:]
    }
}
