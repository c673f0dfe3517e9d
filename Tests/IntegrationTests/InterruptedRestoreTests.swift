import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// A restore and a hydration killed half-way (SIGKILL, as the OOM killer or a power cut would) leave nothing
    /// that claims to be complete, and the next controller clears what they left.
    @Suite struct InterruptedRestoreTests {
        @Test func aKilledRestoreAndAKilledHydrationLeaveNothingBehind() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let pool = testLab.directory.appendingPathComponent("pool")
                let source = try await lab.volumes.create(role: .boot, size: 2 << 30)
                try HostTools.fillRandom(source.path, mebibytes: 1536)
                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: source.id).id)
                try #require(snapshot.state == .completed)

                // A restore, killed once its new volume holds a quarter of the snapshot.
                let restore = try CommandLineTests.start(
                    ["snapshot", "restore", snapshot.id], stateDirectory: testLab.directory)
                let partial = try await waitForFile(
                    in: pool, excluding: [source.path], atLeast: 384 << 20, while: restore)
                kill(restore.processIdentifier, SIGKILL)
                restore.waitUntilExit()
                let leftover = try await lab.volumes.list().filter { $0.id != source.id }
                #expect(
                    leftover.allSatisfy { $0.state == .creating }, "a killed restore's volume never reads available")

                // A hydration (the first launch of an image on this host), killed the same way.
                let build = try await ImageFixture.shared.build()
                let image = try await lab.images.register(
                    ImageRegistration(
                        name: "interrupted", bootSnapshotId: snapshot.id,
                        bootOverride: BootSettings(
                            kernel: build.kernel.path, initrd: build.initrd.path, cmdline: build.cmdline)))
                let launch = try CommandLineTests.start(
                    ["instance", "run", "--image", image.id, "--no-lazy"], stateDirectory: testLab.directory)
                let base = try await waitForFile(
                    in: pool, excluding: [source.path, partial], atLeast: 384 << 20, while: launch)
                #expect(base.contains("base-\(snapshot.id)"))
                kill(launch.processIdentifier, SIGKILL)
                launch.waitUntilExit()
                #expect(try await lab.catalog.bases().allSatisfy { $0.state == .hydrating })

                // The next controller removes both, files included; no qemu-nbd is left serving them.
                let restarted = try await Lab.open(paths: lab.paths)
                #expect(try await restarted.volumes.list().map(\.id) == [source.id])
                #expect(try await restarted.catalog.bases().isEmpty)
                #expect(!FileManager.default.fileExists(atPath: partial), "the partial restore is gone")
                #expect(!FileManager.default.fileExists(atPath: base), "the partial base is gone")
                #expect(
                    try HostTools.processes(matching: partial).isEmpty && HostTools.processes(matching: base).isEmpty)

                // And both work from scratch.
                let restored = try await restarted.snapshots.restore(snapshot.id)
                try HostTools.run(
                    "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", source.path, restored.path])
                let launched = try await restarted.images.launch(
                    ImageLaunchRequest(image: image.id, waitUntilReady: false, lazy: false))
                #expect(try await restarted.catalog.bases().map(\.state) == [.ready])
                for instance in launched { _ = try await restarted.instances.terminate(instance.id) }
            }
        }

        /// Waits until a new qcow2 in `pool` reaches `size` bytes while `process` runs; returns its path.
        private func waitForFile(in pool: URL, excluding known: [String], atLeast size: UInt64, while process: Process)
            async throws -> String
        {
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                let files = (try? FileManager.default.contentsOfDirectory(atPath: pool.path)) ?? []
                for name in files where name.hasSuffix(".qcow2") {
                    let path = pool.appendingPathComponent(name).path
                    guard !known.contains(path) else { continue }
                    var info = stat()
                    if stat(path, &info) == 0, UInt64(info.st_blocks) * 512 >= size { return path }
                }
                try #require(process.isRunning, "the command ended before it wrote \(size) bytes")
                try await Task.sleep(for: .milliseconds(10))
            }
            throw CancellationError()
        }
    }
}
