import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import NIOSSL
import SnaplabCore

/// Where `snaplab serve` listens.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// Further names clients reach the server by (a DNS name in front of it); requests naming any other host are
    /// refused.
    public var serverNames: [String]
    /// PEM files of the certificate (chain) and its private key: serve HTTPS instead of HTTP.
    public var tls: (certificate: String, key: String)?

    public init(
        host: String = "127.0.0.1", port: Int = 8780, serverNames: [String] = [],
        tls: (certificate: String, key: String)? = nil
    ) {
        self.host = host
        self.port = port
        self.serverNames = serverNames
        self.tls = tls
    }

    public var isLoopback: Bool { ["127.0.0.1", "::1", "localhost"].contains(host) }
}

/// The HTTP front end: the EC2 Query API at `POST /`, a JSON view at `/api/…`, and the control screen at `/`.
public enum SnaplabServer {
    /// Builds the application. With access keys configured, the EC2 API requires SigV4 and the JSON API and
    /// console a session from signing in with the console password; without them the server only listens on
    /// loopback.
    public static func buildApplication(lab: Lab, configuration: ServerConfiguration) throws(SnaplabError)
        -> some ApplicationProtocol
    {
        let files = try CredentialFiles(paths: lab.paths)
        if !configuration.isLoopback && files.keys.keys.isEmpty {
            throw SnaplabError(
                .invalidArgument,
                "refusing to listen on \(configuration.host) without credentials: anyone could drive the lab. Run `snaplab credentials create` first, or listen on 127.0.0.1"
            )
        }
        let auth = ConsoleAuth(files: files, secureCookies: configuration.tls != nil)
        let router = buildRouter(lab: lab, auth: auth, names: BrowserGuard.names(for: configuration))
        return Application(
            router: router, server: try serverBuilder(configuration),
            configuration: .init(
                address: .hostname(configuration.host, port: configuration.port),
                serverName: "snaplab"))
    }

    /// HTTP/1.1, or HTTP/1.1 over TLS with the configured certificate and key.
    static func serverBuilder(_ configuration: ServerConfiguration) throws(SnaplabError) -> HTTPServerBuilder {
        guard let (certificate, key) = configuration.tls else { return .http1() }
        do {
            let chain = try NIOSSLCertificate.fromPEMFile(certificate).map { NIOSSLCertificateSource.certificate($0) }
            let privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
            let tls = TLSConfiguration.makeServerConfiguration(
                certificateChain: chain, privateKey: .privateKey(privateKey))
            return try .tls(.http1(), tlsConfiguration: tls)
        } catch {
            throw SnaplabError(
                .invalidArgument,
                "cannot serve TLS with \(certificate) and \(key) (PEM certificate chain and private key): \(error)",
                cause: error)
        }
    }

    static func buildRouter(lab: Lab, auth: ConsoleAuth, names: Set<String>)
        -> Router<BasicRequestContext>
    {
        let router = Router()
        router.add(middleware: BrowserGuard(names: names))
        let metrics = LabMetrics(lab: lab)
        router.add(middleware: RequestMetricsMiddleware(metrics: metrics))
        let ec2 = EC2API(lab: lab)
        router.post("/") { request, _ -> Response in
            let start = ContinuousClock.now
            // The keys as the credentials file says now (a key made after the start works at once).
            let keys = auth.files.keys
            let verifier = keys.keys.isEmpty ? nil : SigV4Verifier(keys: keys, region: EC2API.region)
            var request = request
            let requestId = UUID().uuidString.lowercased()
            guard let body = try? await request.collectBody(upTo: 1 << 20) else {
                let error = EC2Error(
                    code: "InvalidParameterValue", message: "The request body is larger than 1 MiB", status: 413)
                return xml(error.xmlBuffer(requestId: requestId), status: error.status)
            }
            let data = Data(buffer: body)
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
                    return xml(error.xmlBuffer(requestId: requestId), status: error.status)
                }
            }
            let parameters = EC2Parameters(formBody: String(decoding: data, as: UTF8.self))
            let (status, answer) = await ec2.respond(parameters, requestId: requestId)
            metrics.requestFinished(
                action: EC2API.knownAction(parameters.action), status: status, duration: ContinuousClock.now - start)
            switch answer {
            case .whole(let buffer):
                return xml(buffer, status: status)
            case .streamed(let write):
                return Response(
                    status: HTTPResponse.Status(code: status), headers: [.contentType: "text/xml;charset=UTF-8"],
                    body: ResponseBody(write))
            }
        }
        JSONAPI(lab: lab, auth: auth).register(on: router)
        metrics.register(on: router, auth: auth)
        router.post("/api/login") { request, _ in try await auth.signIn(request) }
        router.post("/api/logout") { request, _ in auth.signOut(request) }
        router.get("/") { request, _ -> Response in
            let page = auth.check(request) == nil ? ConsolePage.html : ConsoleLoginPage.html
            return Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: page)))
        }
        return router
    }

    static func xml(_ body: ByteBuffer, status: Int) -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "text/xml;charset=UTF-8"],
            body: .init(byteBuffer: body))
    }
}
