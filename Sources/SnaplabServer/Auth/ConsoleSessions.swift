import Blocking
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Signed-in browsers: a random token per sign-in, carried in a cookie that the page's scripts cannot read
/// (`HttpOnly`) and that browsers never attach to requests other sites start (`SameSite=Strict`). Tokens last
/// 12 hours and live in memory: restarting the server signs everyone out.
final class ConsoleSessions: Sendable {
    static let cookieName = "snaplab_session"
    static let lifetime: TimeInterval = 12 * 3600

    private let tokens = Mutex<[String: Date]>([:])

    /// A new session; returns the `Set-Cookie` value that carries it.
    func open(secure: Bool) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        let expires = Date().addingTimeInterval(Self.lifetime)
        tokens.withLock { sessions in
            sessions = sessions.filter { $0.value > Date() }
            sessions[token] = expires
        }
        return "\(Self.cookieName)=\(token); Path=/; Max-Age=\(Int(Self.lifetime)); HttpOnly; SameSite=Strict"
            + (secure ? "; Secure" : "")
    }

    func isSignedIn(_ request: Request) -> Bool {
        guard let token = Self.token(in: request) else { return false }
        return tokens.withLock { sessions in
            guard let match = sessions.first(where: { ConstantTime.equal($0.key, token) }) else { return false }
            return match.value > Date()
        }
    }

    /// Ends the request's session; returns the `Set-Cookie` value that clears the cookie.
    func close(_ request: Request) -> String {
        if let token = Self.token(in: request) { _ = tokens.withLock { $0.removeValue(forKey: token) } }
        return "\(Self.cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict"
    }

    private static func token(in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let parts = pair.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
                if parts.count == 2, parts[0] == cookieName { return String(parts[1]) }
            }
        }
        return nil
    }
}

/// Who may use the console and the JSON API: anyone on a server without access keys (it listens on loopback
/// only), a signed-in browser otherwise.
struct ConsoleAuth: Sendable {
    let files: CredentialFiles
    let sessions = ConsoleSessions()
    let secureCookies: Bool

    var required: Bool { !files.keys.keys.isEmpty }

    /// Nil when the request may go on; otherwise the answer that refuses it.
    func check(_ request: Request) -> Response? {
        guard required, !sessions.isSignedIn(request) else { return nil }
        return Self.json(.unauthorized, ["error": ["code": "unauthorized", "message": "sign in at / first"]])
    }

    /// `POST /api/login` with `{"password": …}`.
    func signIn(_ request: Request) async throws -> Response {
        guard required else { return Self.json(.ok, ["signedIn": ["required": "no"]]) }
        guard let password = files.password else {
            return Self.json(
                .forbidden,
                [
                    "error": [
                        "code": "noPassword",
                        "message":
                            "no console password is set; run `snaplab credentials console-password` on the server",
                    ]
                ])
        }
        var body = request
        let data = Data(buffer: try await body.collectBody(upTo: 4096))
        let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
        let candidate = object?["password"] as? String ?? ""
        // scrypt costs ~100 ms of CPU and 32 MiB: off the concurrency pool.
        let matches = await BlockingPool.run { () -> Bool in password.matches(candidate) }
        guard matches else {
            // Slows guessing down; scrypt already costs each try about 100 ms.
            try? await Task.sleep(for: .milliseconds(500))
            return Self.json(.unauthorized, ["error": ["code": "wrongPassword", "message": "wrong password"]])
        }
        var response = Self.json(.ok, ["signedIn": ["required": "yes"]])
        response.headers[.setCookie] = sessions.open(secure: secureCookies)
        return response
    }

    func signOut(_ request: Request) -> Response {
        var response = Self.json(.ok, ["signedOut": ["required": required ? "yes" : "no"]])
        response.headers[.setCookie] = sessions.close(request)
        return response
    }

    static func json(_ status: HTTPResponse.Status, _ payload: [String: [String: String]]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: payload, options: [.sortedKeys])) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}
