import Foundation
import SnaplabCore
import Testing

/// `snaplab export serve`: one service per lab serves every completed snapshot by id on one socket, opening
/// each from the store on demand; a second service is refused; it leaves on its own once idle.
@Suite(.serialized) struct ExportServiceTests {
    /// `snaplab export serve --idle-exit 3` for a lab, returned once it listens (it prints its socket's line).
    static func startService(_ state: URL, environment: [String: String] = [:]) throws -> (Process, String) {
        let service = Process()
        service.executableURL = CommandLineTests.binary
        service.arguments = ["export", "serve", "--idle-exit", "3"]
        service.environment = ["SNAPLAB_STATE_DIR": state.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
            .merging(environment) { $1 }
        let output = Pipe()
        service.standardOutput = output
        service.standardError = FileHandle.nullDevice
        try service.run()
        var printed = Data()
        while !printed.contains(UInt8(ascii: "\n")) {
            let more = output.fileHandleForReading.availableData
            guard !more.isEmpty else { break }
            printed += more
        }
        return (service, String(decoding: printed, as: UTF8.self))
    }

    @Test func oneServiceServesEverySnapshotByIdAndLeavesWhenIdle() async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            let boot = try await testLab.bootVolume()
            let data = try await lab.volumes.create(role: .data, size: 32 << 20)
            try HostTools.fillRandom(data.path, mebibytes: 8)
            let bootSnapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
            let dataSnapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
            #expect(bootSnapshot.state == .completed && dataSnapshot.state == .completed)

            let (service, printed) = try Self.startService(testLab.directory)
            defer { if service.isRunning { service.terminate() } }
            let socket = ExportService.socketPath(lab.paths)
            #expect(printed.contains(socket))

            let second = try CommandLineTests.runBinary(["export", "serve"], stateDirectory: testLab.directory)
            #expect(second.status != 0 && second.stderr.contains("already runs"), "\(second.stderr)")

            try HostTools.run(
                "/usr/bin/qemu-img",
                [
                    "compare", "-f", "qcow2", "-F", "raw", boot.path,
                    ExportService.uri(snapshot: bootSnapshot.id, paths: lab.paths),
                ])
            try HostTools.run(
                "/usr/bin/qemu-img",
                [
                    "compare", "-f", "qcow2", "-F", "raw", data.path,
                    ExportService.uri(snapshot: dataSnapshot.id, paths: lab.paths),
                ])
            let unknown = try HostTools.run(
                "/usr/bin/nbdinfo", ["nbd+unix:///snap-00000000000000000?socket=\(socket)"], allowedStatuses: [0, 1])
            #expect(unknown.status != 0, "an id that is no snapshot of this lab is not served")

            // Idle for 3 s, it leaves by itself.
            let deadline = ContinuousClock.now + .seconds(60)
            while service.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
            #expect(!service.isRunning)
            service.waitUntilExit()
            #expect(service.terminationStatus == 0)
            #expect(!FileManager.default.fileExists(atPath: socket))
        }
    }
}
