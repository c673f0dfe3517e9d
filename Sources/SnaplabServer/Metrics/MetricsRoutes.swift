import Foundation
import Hummingbird
import SnaplabCore

extension LabMetrics {
    /// `GET /metrics`. With access keys configured, Prometheus authenticates with HTTP basic auth: an access key
    /// id as the user, its secret as the password (`basic_auth` in a scrape config); a signed-in browser may look
    /// too. The refusal names no `WWW-Authenticate: Basic` challenge, so a browser never prompts for, keeps and
    /// replays such credentials (the reason the console and the JSON API refuse basic auth altogether).
    nonisolated func register(on router: Router<BasicRequestContext>, auth: ConsoleAuth) {
        router.get("/metrics") { request, _ -> Response in
            if auth.required, auth.check(request) != nil, !Self.basicAuthMatches(request, keys: auth.files.keys) {
                return Response(
                    status: .unauthorized,
                    headers: [.contentType: "text/plain"],
                    body: .init(
                        byteBuffer: ByteBuffer(
                            string: "use an access key id and its secret (`snaplab credentials create`) as basic auth\n"
                        )))
            }
            do throws(SnaplabError) {
                let text = try await self.scrape()
                return Response(
                    status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(bytes: text)))
            } catch {
                return Response(
                    status: .internalServerError, headers: [.contentType: "text/plain"],
                    body: .init(byteBuffer: ByteBuffer(string: "cannot read the catalog: \(error.message)\n")))
            }
        }
    }

    static func basicAuthMatches(_ request: Request, keys: AccessKeys) -> Bool {
        guard let header = request.headers[.authorization], header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))),
            let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return false }
        let id = String(text[..<colon])
        let secret = String(text[text.index(after: colon)...])
        guard let key = keys.keys.first(where: { $0.accessKeyId == id }) else { return false }
        return ConstantTime.equal(key.secretAccessKey, secret)
    }
}

/// Counts and times the JSON API's and the console's requests by route (the EC2 endpoint counts its own, by
/// action, where it knows the action).
struct RequestMetricsMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext
    let metrics: LabMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        if request.method == .post && request.uri.path == "/" { return try await next(request, context) }
        let start = ContinuousClock.now
        let action = { "\(request.method) \(context.endpointPath ?? "unmatched")" }
        do {
            let response = try await next(request, context)
            metrics.requestFinished(
                action: action(), status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.requestFinished(action: action(), status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
