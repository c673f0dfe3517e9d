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
