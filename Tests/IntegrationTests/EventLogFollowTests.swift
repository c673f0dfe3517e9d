import Foundation
import SnaplabCore
import Testing

/// `snaplab events --follow` streams what another process does to the lab, one JSON object per line, as it
/// happens; the JSON API pages the same log.
@Suite struct EventLogFollowTests {
    @Test func followStreamsChangesMadeElsewhere() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
        try await TestLab.with { testLab in
            let output = testLab.directory.appendingPathComponent("events.jsonl")
            _ = FileManager.default.createFile(atPath: output.path, contents: nil)
            let follower = Process()
            follower.executableURL = CommandLineTests.binary
            follower.arguments = ["events", "--follow", "--output", "json"]
            follower.environment = [
                "SNAPLAB_STATE_DIR": testLab.directory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            ]
            follower.standardOutput = try FileHandle(forWritingTo: output)
            follower.standardError = FileHandle.nullDevice
            try follower.run()
            defer { if follower.isRunning { kill(follower.processIdentifier, SIGKILL) } }

            let volume = try await testLab.lab.volumes.create(role: .data, size: 16 << 20)
            try await testLab.lab.volumes.delete(volume.id)
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            var seen: [CatalogEvent] = []
            let deadline = ContinuousClock.now + .seconds(60)
            while !seen.contains(where: { $0.resourceId == volume.id && $0.action == "deleted" }) {
                try #require(ContinuousClock.now < deadline, "the follower printed: \(seen)")
                try #require(follower.isRunning, "events --follow exited")
                try await Task.sleep(for: .milliseconds(200))
                let text = try String(contentsOf: output, encoding: .utf8)
                seen = try text.split(separator: "\n").map {
                    try decoder.decode(CatalogEvent.self, from: Data($0.utf8))
                }
            }
            let mine = seen.filter { $0.resourceId == volume.id }
            #expect(mine.map(\.action) == ["created", "changed", "changed", "deleted"])
            #expect(mine.compactMap(\.toState) == ["creating", "available", "deleting"])
        }
    }
}

/// `--log-format json`: a command's actions are JSON lines on stderr naming the resource; a one-shot command logs
/// them only when asked (`--log-level info`), a daemon by default.
@Suite struct StructuredLogTests {
    @Test func actionsAreJSONLinesWithTheResourceIds() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
        try await TestLab.with { testLab in
            let run = { (arguments: [String]) throws -> CommandLineTests.Outcome in
                let outcome = try CommandLineTests.runBinary(arguments, stateDirectory: testLab.directory)
                #expect(outcome.status == 0, "\(arguments): \(outcome.stderr)")
                return outcome
            }
            let quiet = try run(["volume", "create", "--role", "data", "--size", "16M"])
            #expect(quiet.stderr.isEmpty, "a one-shot command prints its result, not its log: \(quiet.stderr)")

            let logged = try run([
                "volume", "create", "--role", "data", "--size", "16M", "--log-level", "info", "--log-format", "json",
            ])
            let id = logged.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let lines = try logged.stderr.split(separator: "\n").map {
                try #require(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: String])
            }
            #expect(lines.map { $0["message"] } == ["volume \(id) created", "volume \(id) available"])
            #expect(lines.allSatisfy { $0["volume"] == id && $0["level"] == "info" && $0["time"] != nil })
            #expect(lines.last?["from"] == "creating" && lines.last?["to"] == "available")

            let refused = try CommandLineTests.runBinary(
                ["volume", "list", "--log-format", "xml"], stateDirectory: testLab.directory)
            #expect(refused.status != 0 && refused.stderr.contains("log format xml"))
        }
    }
}
