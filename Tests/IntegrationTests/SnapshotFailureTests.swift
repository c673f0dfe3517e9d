import Foundation
import SnaplabCore
import SnapshotStore
import Testing

extension RealGuestTests {
    /// What happens when things go wrong: a killed controller, a damaged store.
    @Suite struct SnapshotFailureTests {
        @Test func killedControllerLeavesNoFalseCompletedSnapshot() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let small = try await lab.volumes.create(role: .data, size: 64 << 20)
                try HostTools.fillRandom(small.path, mebibytes: 16)
                let kept = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: small.id).id)
                #expect(kept.state == .completed)

                let big = try await lab.volumes.create(role: .data, size: 2 << 30)
                try HostTools.fillRandom(big.path, mebibytes: 1536)
                let process = Process()
                process.executableURL = CommandLineTests.binary
                process.arguments = ["snapshot", "create", big.id, "--wait"]
                process.environment = [
                    "SNAPLAB_STATE_DIR": testLab.directory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin",
                ]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()

                var victim: Snapshot?
                let deadline = ContinuousClock.now + .seconds(120)
                while victim == nil, ContinuousClock.now < deadline {
                    victim = try await lab.catalog.snapshots().first { $0.volumeId == big.id && $0.progress >= 3 }
                    if victim == nil { try await Task.sleep(for: .milliseconds(20)) }
                }
                let interrupted = try #require(victim, "the snapshot never got going")
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
                #expect(interrupted.state == .pending, "killed mid-copy (at \(interrupted.progress)%)")

                // A restarted controller settles it.
                let restarted = try await Lab.open(paths: lab.paths)
                let settled = try await restarted.snapshots.get(interrupted.id)
                #expect(settled.state == .error)
                #expect(settled.errorMessage?.contains("interrupted") == true)
                let store = try await restarted.store.open()
                #expect(try await store.hasManifest(interrupted.id) == false)
                #expect(try HostTools.processes(matching: big.path).isEmpty, "no qemu-nbd left serving the volume")
                let bitmaps = try HostTools.run("/usr/bin/qemu-img", ["info", big.path]).output
                #expect(!bitmaps.contains(interrupted.id), "the interrupted capture's bitmap is gone")

                #expect(try await restarted.store.verify().isClean)
                for snapshot in try await restarted.snapshots.list() where snapshot.state == .completed {
                    let restored = try await restarted.snapshots.restore(snapshot.id)
                    try HostTools.run(
                        "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", small.path, restored.path])
                }
                _ = try await restarted.store.collectGarbage()
                #expect(try await restarted.store.verify().isClean)

                // And the volume can be snapshotted again.
                let retried = try await restarted.snapshots.wait(
                    for: try await restarted.snapshots.create(volumeId: big.id).id)
                #expect(retried.state == .completed && !retried.incremental)
                #expect(retried.allocatedBytes >= 1536 << 20)
            }
        }

        @Test func aFlippedByteIsFoundAndRestoreRefusesWrongData() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let first = try await lab.volumes.create(role: .data, size: 64 << 20)
                let second = try await lab.volumes.create(role: .data, size: 64 << 20)
                try HostTools.fillRandom(first.path, mebibytes: 8)
                try HostTools.fillRandom(second.path, mebibytes: 8)
                let damaged = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: first.id).id)
                let intact = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: second.id).id)
                #expect(try await lab.store.verify().isClean)

                let store = try await lab.store.open()
                let manifest = try await store.manifest(damaged.id)
                let hash = try #require(try await store.chunkTable(of: manifest).hashes.dropFirst(5).first)
                let location = try #require(store.index.location(of: hash))
                let packFile = testLab.directory.appendingPathComponent("store")
                    .appendingPathComponent(StoreLayout.pack(location.packId))
                let handle = try FileHandle(forUpdating: packFile)
                try handle.seek(toOffset: UInt64(location.offset) + 100)
                let byte = try #require(try handle.read(upToCount: 1)).first ?? 0
                try handle.seek(toOffset: UInt64(location.offset) + 100)
                handle.write(Data([byte ^ 0x40]))
                try handle.close()

                let report = try await lab.store.verify()
                #expect(!report.isClean)
                #expect(report.badChunks.keys.contains(hash.hex))
                #expect(report.brokenSnapshots[damaged.id] == 1)
                #expect(report.brokenSnapshots[intact.id] == nil)

                let volumesBefore = try await lab.volumes.list().count
                await #expect { _ = try await lab.snapshots.restore(damaged.id) } throws: { error in
                    guard let error = error as? SnaplabError else { return false }
                    return error.code == .store && error.message.contains("does not match its hash")
                }
                #expect(try await lab.volumes.list().count == volumesBefore, "a failed restore leaves no volume")
                let restored = try await lab.snapshots.restore(intact.id)
                try HostTools.run(
                    "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", second.path, restored.path])
            }
        }
    }
}
