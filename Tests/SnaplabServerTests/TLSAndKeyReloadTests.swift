import Foundation
import Hummingbird
import SnaplabCore
import Testing

@testable import SnaplabServer

/// `serve --tls-cert --tls-key` answers HTTPS (seen by curl trusting only that certificate), and access keys
/// made while the server runs apply to the next request.
@Suite struct TLSAndKeyReloadTests {
    @Test func httpsWithTheGivenCertificateAndKeysReloadedWithoutARestart() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        #expect(
            try Self.run(
                "/usr/bin/openssl",
                [
                    "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", certificate, "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                ]
            ).status == 0)

        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        let port = Int.random(in: 20_000..<40_000)
        let app = try SnaplabServer.buildApplication(
            lab: lab, configuration: ServerConfiguration(port: port, tls: (certificate, key)))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            let url = "https://127.0.0.1:\(port)/api/volumes"
            func status() throws -> String {
                try Self.run(
                    "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", certificate, url]
                )
                .output
            }
            let deadline = ContinuousClock.now + .seconds(30)
            while try status() != "200" && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(100))
            }
            #expect(try status() == "200", "HTTPS with the given certificate")
            let plain = try Self.run(
                "/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "http://127.0.0.1:\(port)/"])
            #expect(plain.output != "200", "no plain HTTP on the TLS port")

            _ = try AccessKeys.create(lab.paths)
            #expect(try status() == "401", "a key made while the server runs applies at once")
        }
    }

    static func run(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
