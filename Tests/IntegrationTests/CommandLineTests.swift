import Foundation
import Testing

/// The `snaplab` binary itself: exit statuses and messages for bad input.
@Suite struct CommandLineTests {
    static let binary = ImageFixture.repositoryRoot.appendingPathComponent(".build/debug/snaplab")

    struct Outcome {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    /// Starts the binary in the background (output discarded), for tests that interrupt it.
    static func start(_ arguments: [String], stateDirectory: URL) throws -> Process {
        let process = Process()
        process.executableURL = binary
        process.arguments = arguments
        process.environment = ["SNAPLAB_STATE_DIR": stateDirectory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    func run(_ arguments: [String], stateDirectory: URL) throws -> Outcome {
        try Self.runBinary(arguments, stateDirectory: stateDirectory)
    }

    /// Runs the binary to its end with `environment` added, collecting its output.
    static func runBinary(_ arguments: [String], stateDirectory: URL, environment: [String: String] = [:]) throws
        -> Outcome
    {
        let process = Process()
        process.executableURL = Self.binary
        process.arguments = arguments
        process.environment = ["SNAPLAB_STATE_DIR": stateDirectory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
            .merging(environment) { $1 }
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = out.fileHandleForReading.readDataToEndOfFile()
        let stderr = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Outcome(
            status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
            stderr: String(decoding: stderr, as: UTF8.self))
    }

    @Test func badInputExitsWithAClearMessage() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "build the package first")
        let directory = URL(fileURLWithPath: "/tmp/snaplab-cli-\(UUID().uuidString.prefix(8).lowercased())")
        defer { try? FileManager.default.removeItem(at: directory) }

        let badSize = try run(["volume", "create", "--size", "12XB"], stateDirectory: directory)
        #expect(badSize.status == 64)
        #expect(badSize.stderr.contains("'12XB' is not a size"))

        let unknown = try run(["volume", "delete", "vol-0000000000000dead"], stateDirectory: directory)
        #expect(unknown.status == 3)
        #expect(unknown.stderr.contains("no volume 'vol-0000000000000dead'"))

        let malformed = try run(["instance", "describe", "i-../../etc"], stateDirectory: directory)
        #expect(malformed.status == 2)
        #expect(malformed.stderr.contains("is not an instance id"))

        let noHost = try run(["volume", "create", "--size", "1G"], stateDirectory: directory)
        #expect(noHost.status == 3)
        #expect(noHost.stderr.contains("snaplab host init"))

        let listed = try run(["volume", "list", "--output", "json"], stateDirectory: directory)
        #expect(listed.status == 0)
        let decoded = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [Any]
        #expect(decoded?.isEmpty == true)
    }
}
