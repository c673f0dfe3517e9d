import HTTPTypes
import Hummingbird

/// Keeps web pages the operator visits from driving the lab through the operator's browser. Every request must
/// name this server in `Host` (a DNS-rebound name is refused); a request a browser marks as coming from another
/// site (`Origin`, `Sec-Fetch-Site`) is refused; console actions must be JSON, which a page cannot send across
/// sites without a preflight this server never grants. botocore and the aws CLI send no `Origin` and no
/// `Sec-Fetch-Site`, so they are unaffected.
struct BrowserGuard: RouterMiddleware {
    typealias Context = BasicRequestContext

    /// Host names (without port) this server answers to.
    let names: Set<String>

    static func names(for configuration: ServerConfiguration) -> Set<String> {
        Set(["127.0.0.1", "localhost", "::1", configuration.host] + configuration.serverNames)
            .reduce(into: Set<String>()) { $0.insert($1.lowercased()) }
    }

    func handle(
        _ request: Request, context: Context, next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        if let reason = refusal(of: request) {
            return Response(
                status: .forbidden, headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: "refused: \(reason)\n")))
        }
        return try await next(request, context)
    }

    func refusal(of request: Request) -> String? {
        let authority = request.headers[Self.host] ?? request.head.authority
        if let authority, !names.contains(Self.hostName(of: authority).lowercased()) {
            return "this server does not answer to '\(authority)' (start it with --server-name to add a name)"
        }
        if let origin = request.headers[Self.origin] {
            let sameOrigin = authority.map { origin == "http://\($0)" || origin == "https://\($0)" } ?? false
            if !sameOrigin { return "requests from pages of \(origin) are not accepted" }
        }
        if let site = request.headers[Self.fetchSite], site != "same-origin", site != "none" {
            return "requests from other sites (\(site)) are not accepted"
        }
        if request.method == .post, request.uri.path.hasPrefix("/api/"),
            request.headers[.contentType]?.lowercased().hasPrefix("application/json") != true
        {
            return "console actions must be sent as application/json"
        }
        return nil
    }

    /// `host`, `host:port`, `[v6]` or `[v6]:port` → the host name.
    static func hostName(of authority: String) -> String {
        if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            return String(authority[authority.index(after: authority.startIndex)..<end])
        }
        return String(authority.split(separator: ":", maxSplits: 1).first ?? "")
    }

    private static var host: HTTPField.Name { HTTPField.Name("Host")! }
    private static var origin: HTTPField.Name { HTTPField.Name("Origin")! }
    private static var fetchSite: HTTPField.Name { HTTPField.Name("Sec-Fetch-Site")! }
}
