import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import SnaplabCore
import Testing

@testable import SnaplabServer

/// With access keys, the console and the JSON API need a session from the console password: never an access
/// key's secret, never HTTP Basic auth (which browsers replay).
@Suite struct ConsoleLoginTests {
    @Test func signingInWithTheConsolePasswordOpensAStrictHttpOnlySession() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-login-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        let key = try AccessKeys.create(lab.paths)
        #expect(throws: SnaplabError.self) { try ConsolePassword.set("short", paths: lab.paths) }
        try ConsolePassword.set("correct horse battery", paths: lab.paths)
        let stored = try String(contentsOf: ConsolePassword.file(in: lab.paths), encoding: .utf8)
        #expect(!stored.contains("correct horse"), "only a hash is stored")
        let mode =
            try FileManager.default.attributesOfItem(atPath: ConsolePassword.file(in: lab.paths).path)[
                .posixPermissions] as? Int
        #expect(mode == 0o600)

        let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
        try await app.test(.router) { client in
            try await client.execute(uri: "/api/volumes", method: .get) { response in
                #expect(response.status == .unauthorized)
            }
            // The access key's secret is no way in.
            let basic = Data("\(key.accessKeyId):\(key.secretAccessKey)".utf8).base64EncodedString()
            try await client.execute(uri: "/api/volumes", method: .get, headers: [.authorization: "Basic \(basic)"]) {
                response in
                #expect(response.status == .unauthorized)
            }
            try await client.execute(uri: "/", method: .get) { response in
                #expect(String(buffer: response.body).contains("Console password"), "the sign-in form")
            }
            try await client.execute(
                uri: "/api/login", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"password": "wrong horse battery"}"#)
            ) { response in
                #expect(response.status == .unauthorized)
                #expect(response.headers[.setCookie] == nil)
            }
            // A form post (what another site could make the browser send) is refused before the password is read.
            try await client.execute(
                uri: "/api/login", method: .post, headers: [.contentType: "application/x-www-form-urlencoded"],
                body: ByteBuffer(string: "password=correct+horse+battery")
            ) { response in
                #expect(response.status == .forbidden)
            }
            var cookie = ""
            try await client.execute(
                uri: "/api/login", method: .post, headers: [.contentType: "application/json"],
                body: ByteBuffer(string: #"{"password": "correct horse battery"}"#)
            ) { response in
                #expect(response.status == .ok)
                let setCookie = response.headers[.setCookie] ?? ""
                #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Strict"), "\(setCookie)")
                cookie = String(setCookie.split(separator: ";")[0])
            }
            try await client.execute(uri: "/api/volumes", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .ok)
            }
            try await client.execute(uri: "/", method: .get, headers: [.cookie: cookie]) { response in
                #expect(String(buffer: response.body).contains("Snaplab control screen"))
            }
            try await client.execute(
                uri: "/api/logout", method: .post, headers: [.contentType: "application/json", .cookie: cookie]
            ) { response in
                #expect(response.headers[.setCookie]?.contains("Max-Age=0") == true)
            }
            try await client.execute(uri: "/api/volumes", method: .get, headers: [.cookie: cookie]) { response in
                #expect(response.status == .unauthorized, "a closed session is gone")
            }
        }
    }
}
