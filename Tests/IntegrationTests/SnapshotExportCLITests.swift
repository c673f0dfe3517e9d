import Foundation
import SnaplabCore
import Testing

/// `snaplab snapshot export` serves a snapshot of a real volume from the store over NBD: qemu reads it as the
/// volume, a qcow2 overlay can be built on it, and Ctrl-C ends it and removes its socket.
@Suite(.serialized) struct SnapshotExportCLITests {
    @Test func qemuReadsTheExportAsTheVolumeItWasTakenFrom() async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            let boot = try await testLab.bootVolume()
            let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
            #expect(snapshot.state == .completed)

            let socket = testLab.directory.appendingPathComponent("export.sock").path
            let process = Process()
            process.executableURL = CommandLineTests.binary
            process.arguments = ["snapshot", "export", snapshot.id, "--socket", socket]
            process.environment = [
                "SNAPLAB_STATE_DIR": testLab.directory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
            ]
            let output = Pipe()
            process.standardOutput = output
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { process.terminate() } }

            // The URI is printed once the socket listens.
            var printed = Data()
            while !printed.contains(UInt8(ascii: "\n")) {
                let more = output.fileHandleForReading.availableData
                guard !more.isEmpty else { break }
                printed += more
            }
            let uri = String(decoding: printed, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(uri == "nbd+unix:///\(snapshot.id)?socket=\(socket)")

            try HostTools.run("/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "raw", boot.path, uri])
            let overlay = testLab.directory.appendingPathComponent("overlay.qcow2").path
            try HostTools.run(
                "/usr/bin/qemu-img", ["create", "-f", "qcow2", "-o", "compat=1.1", "-b", uri, "-F", "raw", overlay])
            try HostTools.run("/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", overlay, boot.path])
            let map = try HostTools.run("/usr/bin/nbdinfo", ["--map", uri]).output
            #expect(map.contains("hole,zero") && map.contains("data"), "the export keeps the volume's holes: \(map)")

            process.interrupt()
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(!FileManager.default.fileExists(atPath: socket), "the socket is removed")
        }
    }
}
