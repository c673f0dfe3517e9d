import Foundation
import Hummingbird
import SnaplabCore

/// `/api/…`: the lab's resources as JSON for scripts and the console, and the console's one-click actions.
struct JSONAPI: Sendable {
    let lab: Lab
    let auth: ConsoleAuth

    func register(on router: Router<BasicRequestContext>) {
        registerActions(on: router)
        router.get("/api/volumes") { request, _ in try await guarded(request) { try await lab.volumes.list() } }
        router.get("/api/snapshots") { request, _ in try await listSnapshots(request) }
        router.get("/api/changes") { request, _ in try await changes(request) }
        router.get("/api/events") { request, _ in events(request) }
        router.get("/api/event-log") { request, _ in
            try await guarded(request) { () async throws -> [CatalogEvent] in
                let parameters = request.uri.queryParameters
                guard let after = Int64(parameters.get("after") ?? "0"), after >= 0,
                    let limit = Int(parameters.get("limit") ?? "1000"), (1...10_000).contains(limit)
                else {
                    throw SnaplabError(.invalidArgument, "after must be a sequence number and limit 1–10000")
                }
                return try await lab.catalog.events(after: after, resourceId: parameters.get("resource"), limit: limit)
            }
        }
        router.get("/api/images") { request, _ in try await guarded(request) { try await lab.images.list() } }
        router.get("/api/instances") { request, _ in try await guarded(request) { try await lab.instances.list() } }
        router.get("/api/instances/:id") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { try await lab.instances.describe(id) }
        }
        router.get("/api/policies") { request, _ in try await guarded(request) { try await lab.policies.list() } }
        router.get("/api/policies/:id/runs") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { try await PolicyView.read(lab, id) }
        }
        router.get("/api/hosts") { request, _ in try await guarded(request) { try await lab.hosts.summaries() } }
        router.get("/api/store") { request, _ in try await guarded(request) { try await StoreSummary.read(lab) } }
        router.post("/api/instances/:id/stop") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { try await lab.instances.stop(id, wait: false) }
        }
        router.post("/api/instances/:id/start") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { try await lab.instances.start(id, waitUntilReady: false) }
        }
        router.post("/api/instances/:id/terminate") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { try await lab.instances.terminate(id) }
        }
        router.post("/api/volumes/:id/snapshot") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { [try await lab.snapshots.create(volumeId: id)] }
        }
        router.post("/api/instances/:id/snapshot") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) { try await lab.snapshots.createSet(instanceId: id) }
        }
        router.post("/api/snapshots/:id/restore") { request, context in
            let id = context.parameters.get("id") ?? ""
            let lazy = request.uri.queryParameters.get("lazy") == "1"
            return try await guarded(request) {
                lazy ? try await lab.lazy.restore(id) : try await lab.snapshots.restore(id)
            }
        }
        router.post("/api/snapshots/:id/register-image") { request, context in
            let id = context.parameters.get("id") ?? ""
            let name = await Self.jsonBody(request)["name"] as? String ?? "image-of-\(id)"
            return try await guarded(request) {
                try await lab.images.register(ImageRegistration(name: name, bootSnapshotId: id))
            }
        }
        router.post("/api/images/:id/launch") { request, context in
            let id = context.parameters.get("id") ?? ""
            return try await guarded(request) {
                try await lab.images.launch(ImageLaunchRequest(image: id, waitUntilReady: false))
            }
        }
    }

    /// Checks auth, runs the call, and answers JSON: the result, or `{"error": {"code", "message"}}`.
    func guarded<T: Encodable>(_ request: Request, _ body: () async throws -> T) async throws -> Response {
        if let denied = auth.check(request) { return denied }
        let encoder = Self.encoder()
        do {
            let value = try await body()
            return Response(
                status: .ok, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(value))))
        } catch let error as SnaplabError {
            let status: HTTPResponse.Status =
                switch error.code {
                case .notFound: .notFound
                case .invalidArgument: .badRequest
                case .invalidState, .conflict: .conflict
                default: .internalServerError
                }
            let payload = ["error": ["code": error.code.rawValue, "message": error.message]]
            return Response(
                status: status, headers: [.contentType: "application/json"],
                body: .init(byteBuffer: ByteBuffer(bytes: try encoder.encode(payload))))
        }
    }
}
