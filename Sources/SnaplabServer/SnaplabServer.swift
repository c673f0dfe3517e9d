import Foundation
import Hummingbird
import SnaplabCore

/// Where `snaplab serve` listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Further names clients reach the server by (a DNS name in front of it); requests naming any other host are
    /// refused.
    public var serverNames: [String]

    public init(host: String = "127.0.0.1", port: Int = 8780, serverNames: [String] = []) {
        self.host = host
        self.port = port
        self.serverNames = serverNames
    }

    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) }
}

/// The HTTP front end: the EC2 Query API at `POST /`, a JSON view at `/api/…`, and the control screen at `/`.
public enum SnaplabServer {
    /// Builds the application. With access keys configured, the EC2 API requires SigV4 and the JSON API and
    /// console HTTP Basic auth (key id and secret); without them the server only listens on loopback.
    public static func buildApplication(lab: Lab, configuration: ServerConfiguration) throws(SnaplabError)
        -> some ApplicationProtocol
    {
        let keys = try AccessKeys.load(lab.paths)
        if !configuration.isLoopback && keys.keys.isEmpty {
            throw SnaplabError(
                .invalidArgument,
                "refusing to listen on \(configuration.host) without credentials: anyone could drive the lab. Run `snaplab credentials create` first, or listen on 127.0.0.1"
            )
        }
        let router = buildRouter(
            lab: lab, keys: keys, names: BrowserGuard.names(for: configuration))
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "snaplab"))
    }

    static func buildRouter(lab: Lab, keys: AccessKeys, names: Set<String>) -> Router<BasicRequestContext> {
        let router = Router()
        router.add(middleware: BrowserGuard(names: names))
        let ec2 = EC2API(lab: lab)
        let verifier = keys.keys.isEmpty ? nil : SigV4Verifier(keys: keys, region: EC2API.region)
        router.post("/") { request, _ -> Response in
            var request = request
            let body = try await request.collectBody(upTo: 1 << 20)
            let data = Data(buffer: body)
            let requestId = UUID().uuidString.lowercased()
            if let verifier {
                var headers: [String: String] = [:]
                for field in request.headers { headers[field.name.canonicalName] = field.value }
                headers["host"] = request.head.authority ?? headers["host"]
                let path = request.uri.path
                do throws(EC2Error) {
                    try verifier.verify(
                        SigV4Verifier.SignedRequest(
                            method: "POST", path: path, query: request.uri.query ?? "",
                            headers: headers, body: data))
                } catch {
                    return xml(error.xml(requestId: requestId), status: error.status)
                }
            }
            let parameters = EC2Parameters(formBody: String(decoding: data, as: UTF8.self))
            let (status, xmlBody) = await ec2.respond(parameters, requestId: requestId)
            return xml(xmlBody, status: status)
        }
        JSONAPI(lab: lab, keys: keys).register(on: router)
        router.get("/") { request, _ -> Response in
            if let denied = BasicAuth.check(request, keys: keys) { return denied }
            return Response(
                status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: ConsolePage.html)))
        }
        return router
    }

    static func xml(_ body: String, status: Int) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "text/xml;charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}

/// HTTP Basic auth (access key id : secret) for the JSON API and the console, when keys are configured.
enum BasicAuth {
    static func check(_ request: Request, keys: AccessKeys) -> Response? {
        guard !keys.keys.isEmpty else { return nil }
        if let header = request.headers[.authorization], header.hasPrefix("Basic "),
            let decoded = Data(base64Encoded: String(header.dropFirst(6))).map({ String(decoding: $0, as: UTF8.self) })
        {
            let parts = decoded.split(separator: ":", maxSplits: 1).map(String.init)
            if parts.count == 2, let secret = keys.secret(for: parts[0]), ConstantTime.equal(secret, parts[1]) {
                return nil
            }
        }
        return Response(
            status: .unauthorized, headers: [.wwwAuthenticate: "Basic realm=\"snaplab\""],
            body: .init(byteBuffer: ByteBuffer(string: "sign in with an access key id and its secret\n")))
    }
}
