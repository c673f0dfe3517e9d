import Foundation
import SnaplabCore
import SnaplabServer
import Testing

extension RealGuestTests {
    /// The HTTP API driven by real clients: boto3 and the aws CLI (pytest in Tests/api), and a headless
    /// chromium on the control screen (Tests/console).
    @Suite struct APITests {
        @Test func boto3DrivesAFullCycleAndGetsEC2Errors() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
                let key = try AccessKeys.create(lab.paths)
                _ = try await lab.snapshots.createRecycleBinRule(
                    RecycleBinRule(retentionDays: 1, resourceTags: ["bin": "yes"]))
                try await Server.with(stateDirectory: testLab.directory) { endpoint in
                    let outcome = try Pytest.run(
                        "Tests/api",
                        environment: [
                            "SNAPLAB_ENDPOINT": endpoint, "SNAPLAB_BOOT_SNAPSHOT": snapshot.id,
                            "SNAPLAB_ACCESS_KEY_ID": key.accessKeyId, "SNAPLAB_SECRET_ACCESS_KEY": key.secretAccessKey,
                        ])
                    #expect(outcome.status == 0, "pytest Tests/api:\n\(outcome.output)")
                }
            }
        }

        @Test func theControlScreenSnapshotsAVolumeInOneClick() async throws {
            try await TestLab.with { testLab in
                let volume = try await testLab.lab.volumes.create(role: .data, size: 32 << 20)
                try HostTools.fillRandom(volume.path, mebibytes: 4)
                // The browser saves what it shows at the end: README's picture is this test's (run with
                // SNAPLAB_SCREENSHOT=docs/control-screen.png).
                let screenshot =
                    ProcessInfo.processInfo.environment["SNAPLAB_SCREENSHOT"]
                    ?? testLab.directory.appendingPathComponent("control-screen.png").path
                try await Server.with(stateDirectory: testLab.directory) { endpoint in
                    let outcome = try Pytest.run(
                        "Tests/console/test_console.py::test_one_click_snapshot",
                        environment: [
                            "SNAPLAB_ENDPOINT": endpoint, "SNAPLAB_VOLUME": volume.id, "SNAPLAB_SCREENSHOT": screenshot,
                        ])
                    #expect(outcome.status == 0, "pytest Tests/console:\n\(outcome.output)")
                }
                let png = try Data(contentsOf: URL(fileURLWithPath: screenshot))
                #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]) && png.count > 10_000, "a PNG of the screen")
                let snapshots = try await testLab.lab.snapshots.list().filter { $0.volumeId == volume.id }
                #expect(snapshots.count == 1 && snapshots.first?.state == .completed)
            }
        }

        @Test func theControlScreenShowsWhatAPolicyPruned() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                _ = try await lab.volumes.create(role: .data, size: 16 << 20, tags: ["backup": "minutely"])
                let anchor = Date().addingTimeInterval(-3600)
                let (policy, _) = try await lab.policies.create(
                    PolicyRequest(
                        name: "minutely", targetTags: ["backup": "minutely"],
                        schedule: PolicySchedule(intervalSeconds: 60), anchor: anchor,
                        retention: Retention(keepLast: 1)))
                let first = try #require(try await lab.policies.run(policy.id, slot: anchor.addingTimeInterval(60)))
                let second = try #require(try await lab.policies.run(policy.id, slot: anchor.addingTimeInterval(120)))
                let pruned = try #require(first.snapshotsTaken.first)
                #expect(second.snapshotsPruned == [pruned])
                try await Server.with(stateDirectory: testLab.directory) { endpoint in
                    let outcome = try Pytest.run(
                        "Tests/console/test_console.py::test_policy_history_shows_what_retention_pruned",
                        environment: [
                            "SNAPLAB_ENDPOINT": endpoint, "SNAPLAB_POLICY": policy.id, "SNAPLAB_PRUNED": pruned,
                        ])
                    #expect(outcome.status == 0, "pytest Tests/console:\n\(outcome.output)")
                }
            }
        }

        @Test func theControlScreenStopsStartsAndTerminatesAnInstance() async throws {
            try await TestLab.with { testLab in
                let boot = try await testLab.bootVolume()
                let instance = try await testLab.lab.instances.run(LaunchRequest(bootVolumeId: boot.id))
                try await Server.with(stateDirectory: testLab.directory) { endpoint in
                    let outcome = try Pytest.run(
                        "Tests/console/test_console.py::test_instance_actions_and_panels",
                        environment: ["SNAPLAB_ENDPOINT": endpoint, "SNAPLAB_INSTANCE": instance.id])
                    #expect(outcome.status == 0, "pytest Tests/console:\n\(outcome.output)")
                }
                #expect(try await testLab.lab.instances.get(instance.id).state == .terminated)
            }
        }
    }

    /// The control screen's lineage, restore to an instance, console tail, tags and boot plots, in a browser.
    @Suite struct ControlScreenLineageTests {
        @Test func aSnapshotTakenOnTheScreenLaunchesANewInstanceFromItsLineage() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let instance = try await lab.instances.run(LaunchRequest(bootVolumeId: boot.id))
                let first = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
                #expect(first.state == .completed)
                _ = try await lab.snapshots.lock(first.id, SnapshotLockRequest(mode: .governance, duration: .days(1)))
                let run = try BootRunArchive.save(Self.bootRecords(), in: lab.paths)
                let launchedFile = testLab.directory.appendingPathComponent("launched-instance")
                // README's second picture (SNAPLAB_LINEAGE_SCREENSHOT=docs/control-screen-lineage.png).
                let screenshot =
                    ProcessInfo.processInfo.environment["SNAPLAB_LINEAGE_SCREENSHOT"]
                    ?? testLab.directory.appendingPathComponent("lineage.png").path
                try await Server.with(stateDirectory: testLab.directory) { endpoint in
                    let outcome = try Pytest.run(
                        "Tests/console/test_console.py::test_snapshot_lineage_restore_to_instance_console_tags_and_boot_plot",
                        environment: [
                            "SNAPLAB_ENDPOINT": endpoint, "SNAPLAB_INSTANCE": instance.id,
                            "SNAPLAB_BOOT_VOLUME": boot.id,
                            "SNAPLAB_BOOT_RUN": run, "SNAPLAB_LAUNCHED_FILE": launchedFile.path,
                            "SNAPLAB_SCREENSHOT": screenshot, "SNAPLAB_LOCKED_SNAPSHOT": first.id,
                        ])
                    #expect(outcome.status == 0, "pytest Tests/console:\n\(outcome.output)")
                }
                let launchedId = try String(contentsOf: launchedFile, encoding: .utf8)
                let taken = try #require(
                    try await lab.snapshots.list().filter { $0.volumeId == boot.id && $0.id != first.id }.first)
                #expect(taken.state == .completed)
                let launchedBoot = try await lab.volumes.list().filter {
                    $0.instanceId == launchedId && $0.role == .boot
                }
                #expect(
                    launchedBoot.map(\.origin) == ["snapshot \(taken.id)"], "booted from the snapshot the screen took")
                #expect(try await lab.volumes.get(boot.id).tags["team"] == "blue")
            }
        }

        /// Two boots of one disk, as `bench boot` records them: enough for the screen to draw the plot.
        static func bootRecords() -> [BootRecord] {
            [FsckMode.skip, .force].map { mode in
                let extra = mode == .force ? 0.4 : 0
                return BootRecord(
                    bootSize: 256 << 20, fillPercent: 0, smallFiles: 0, variant: "default", fsck: mode, repeatIndex: 0,
                    allocatedBytes: 40 << 20,
                    phases: [
                        "defined": 0, "start-returned": 0.2, "started-event": 0.2, "kernel-start": 0.3,
                        "initramfs": 1.1, "fsck-start": 1.2, "fsck-end": 1.3 + extra, "root-mounted": 1.4 + extra,
                        "ready": 1.8 + extra, "shutdown-requested": 2 + extra, "shutdown-event": 2.5 + extra,
                        "stopped": 2.6 + extra,
                    ])
            }
        }
    }

    @Suite struct ConsoleSignInTests {
        @Test func theConsoleSignsInWithItsPasswordAndRefusesACrossSitePost() async throws {
            try await TestLab.with { testLab in
                let volume = try await testLab.lab.volumes.create(role: .data, size: 16 << 20)
                _ = try AccessKeys.create(testLab.lab.paths)
                let password = "a console password \(UUID().uuidString.prefix(8))"
                try ConsolePassword.set(password, paths: testLab.lab.paths)
                try await Server.with(stateDirectory: testLab.directory) { endpoint in
                    let outcome = try Pytest.run(
                        "Tests/console/test_login.py",
                        environment: [
                            "SNAPLAB_ENDPOINT": endpoint, "SNAPLAB_VOLUME": volume.id,
                            "SNAPLAB_CONSOLE_PASSWORD": password,
                        ])
                    #expect(outcome.status == 0, "pytest Tests/console/test_login.py:\n\(outcome.output)")
                    #expect(outcome.output.contains("2 passed"))
                }
                let log = try String(contentsOf: testLab.directory.appendingPathComponent("serve.log"), encoding: .utf8)
                #expect(
                    try await testLab.lab.snapshots.list().isEmpty,
                    "the cross-site post made nothing; server log:\n\(log)")
            }
        }
    }

    /// `snaplab serve` on a free loopback port for the length of a body.
    enum Server {
        static func with(stateDirectory: URL, _ body: (String) async throws -> Void) async throws {
            let port = Int.random(in: 20_000..<40_000)
            let process = Process()
            process.executableURL = CommandLineTests.binary
            process.arguments = ["serve", "--port", String(port)]
            process.environment = ["SNAPLAB_STATE_DIR": stateDirectory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
            let log = stateDirectory.appendingPathComponent("serve.log")
            _ = FileManager.default.createFile(atPath: log.path, contents: nil)
            let handle = try FileHandle(forWritingTo: log)
            process.standardOutput = handle
            process.standardError = handle
            try process.run()
            defer {
                process.terminate()
                process.waitUntilExit()
            }
            let endpoint = "http://127.0.0.1:\(port)"
            // Ready when it answers.
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline {
                if (try? HostTools.run("/usr/bin/curl", ["-s", "-o", "/dev/null", "\(endpoint)/api/volumes"]))?.status
                    == 0
                {
                    break
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            try await body(endpoint)
        }
    }

    /// Runs pytest on a directory of the repository.
    enum Pytest {
        static func run(_ directory: String, environment: [String: String]) throws -> (status: Int32, output: String) {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", "-m", "pytest", "-q", "-p", "no:cacheprovider", directory]
            process.currentDirectoryURL = ImageFixture.repositoryRoot
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let pipe = Pipe()
            process.standardOutput = pipe
            process.standardError = pipe
            try process.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            print(output)
            return (process.terminationStatus, output)
        }
    }
}
