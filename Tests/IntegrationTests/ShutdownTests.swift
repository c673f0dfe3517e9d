import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// `serve` owns the copies its requests start: a SIGTERM in the middle of one drains it instead of leaving a
    /// snapshot for the next controller to mark `error`.
    @Suite struct ShutdownTests {
        @Test func aSigtermToServeDuringACopyEndsWithTheSnapshotSettled() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let volume = try await lab.volumes.create(role: .data, size: 1 << 30)
                try HostTools.fillRandom(volume.path, mebibytes: 768)

                let port = Int.random(in: 20_000..<40_000)
                let serve = try CommandLineTests.start(
                    ["serve", "--port", String(port)], stateDirectory: testLab.directory)
                defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
                let endpoint = "http://127.0.0.1:\(port)"
                let deadline = ContinuousClock.now + .seconds(120)
                while try HostTools.run(
                    "/usr/bin/curl", ["-sf", "-o", "/dev/null", "\(endpoint)/api/volumes"],
                    allowedStatuses: Set(0...255)
                ).status != 0 {
                    try #require(ContinuousClock.now < deadline && serve.isRunning, "serve did not answer")
                    try await Task.sleep(for: .milliseconds(200))
                }

                let created = try HostTools.run(
                    "/usr/bin/curl",
                    [
                        "-sf", "-X", "POST", "-H", "Content-Type: application/json",
                        "\(endpoint)/api/volumes/\(volume.id)/snapshot",
                    ])
                let decoder = JSONDecoder()
                decoder.dateDecodingStrategy = .iso8601
                let pending = try #require(try decoder.decode([Snapshot].self, from: Data(created.output.utf8)).first)
                #expect(pending.state == .pending)

                // Mid-copy: some progress recorded, not finished.
                var progress = 0.0
                while progress < 1 {
                    let snapshot = try await lab.snapshots.get(pending.id)
                    try #require(snapshot.state == .pending, "the copy ended before the signal could be sent")
                    progress = snapshot.progress
                    try await Task.sleep(for: .milliseconds(20))
                }
                kill(serve.processIdentifier, SIGTERM)
                let exitDeadline = ContinuousClock.now + .seconds(300)
                while serve.isRunning {
                    try #require(ContinuousClock.now < exitDeadline, "serve did not exit after SIGTERM")
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(serve.terminationReason == .exit && serve.terminationStatus == 0)

                let settled = try await lab.snapshots.get(pending.id)
                #expect(settled.state == .completed, "drained: \(settled.state) \(settled.errorMessage ?? "")")
                let restored = try await lab.snapshots.restore(pending.id)
                try HostTools.run(
                    "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", volume.path, restored.path])
            }
        }
    }
}
