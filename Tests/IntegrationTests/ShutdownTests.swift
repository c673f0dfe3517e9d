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

        /// The API failing to start (its port taken) ends the whole process with the error, the export service
        /// beside it included, instead of leaving it running without an API.
        @Test func serveOnATakenPortExitsWithTheError() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let holder = try LoopbackListener()
                defer { holder.close() }
                let log = testLab.directory.appendingPathComponent("serve.err")
                _ = FileManager.default.createFile(atPath: log.path, contents: nil)
                let serve = Process()
                serve.executableURL = CommandLineTests.binary
                serve.arguments = ["serve", "--port", String(holder.port)]
                serve.environment = [
                    "SNAPLAB_STATE_DIR": testLab.directory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
                ]
                serve.standardOutput = FileHandle.nullDevice
                serve.standardError = try FileHandle(forWritingTo: log)
                try serve.run()
                defer { if serve.isRunning { kill(serve.processIdentifier, SIGKILL) } }
                let deadline = ContinuousClock.now + .seconds(120)
                while serve.isRunning {
                    try #require(ContinuousClock.now < deadline, "serve kept running on a port it could not bind")
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(serve.terminationStatus != 0)
                let stderr = try String(contentsOf: log, encoding: .utf8)
                #expect(stderr.contains("\(holder.port)") || stderr.lowercased().contains("address"), "\(stderr)")
                #expect(!ExportService.isRunning(testLab.lab.paths), "the export service outlived serve")
            }
        }
    }
}

/// A TCP socket listening on 127.0.0.1 at a port the kernel picks, to hold that port taken.
private struct LoopbackListener {
    let descriptor: Int32
    let port: Int

    init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(descriptor, socketAddress, length) == 0 && listen(descriptor, 1) == 0
                    && getsockname(descriptor, socketAddress, &length) == 0
            }
        }
        guard descriptor >= 0, bound else { throw POSIXError(.EADDRINUSE) }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() { _ = Glibc.close(descriptor) }
}
