import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// Backup policies: schedule, retention, catch-up, crash recovery, bad input.
    @Suite struct PolicyTests {
        static let anchor = ISO8601DateFormatter().date(from: "2026-03-01T10:00:00Z") ?? Date()

        static func hour(_ index: Int) -> Date { anchor.addingTimeInterval(Double(index) * 3600) }

        @Test func seventyTwoSimulatedHoursLeaveExactlyTheExpectedGenerations() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let volume = try await lab.volumes.create(role: .data, size: 16 << 20, tags: ["backup": "hourly"])
                try HostTools.fillRandom(volume.path, mebibytes: 1)
                let (policy, warnings) = try await lab.policies.create(
                    PolicyRequest(
                        name: "hourly", targetTags: ["backup": "hourly"],
                        schedule: PolicySchedule(intervalSeconds: 3600),
                        anchor: Self.anchor, retention: Retention(keepHourly: 24, keepDaily: 7)))
                #expect(warnings.isEmpty)

                var slotSnapshots: [Int: String] = [:]
                var pinned = ""
                var manual = ""
                for hour in 0..<72 {
                    let runs = try await lab.policies.runDue(now: Self.hour(hour).addingTimeInterval(90))
                    #expect(runs.count == 1 && runs[0].state == .succeeded, "hour \(hour): \(runs.map(\.errors))")
                    slotSnapshots[hour] = runs.first?.snapshotsTaken.first
                    if hour == 5, let id = slotSnapshots[5] {
                        pinned = id
                        _ = try await lab.snapshots.setPinned(id, true)
                    }
                    if hour == 30 {
                        manual = try await lab.snapshots.wait(
                            for: try await lab.snapshots.create(volumeId: volume.id).id
                        ).id
                    }
                    // A second look within the same hour runs nothing.
                    #expect(try await lab.policies.runDue(now: Self.hour(hour).addingTimeInterval(1800)).isEmpty)
                }

                // Independently: slot k falls on day (10 + k) / 24 (the anchor is 10:00 UTC). keep-hourly 24 keeps
                // slots 48–71; keep-daily 7 keeps the newest slot of each day: 13, 37, 61 and 71.
                let newestOfEachDay = Dictionary(grouping: 0..<72, by: { (10 + $0) / 24 }).values.compactMap {
                    $0.max()
                }
                let expectedSlots = Set(48...71).union(newestOfEachDay)
                let expected = Set(expectedSlots.compactMap { slotSnapshots[$0] } + [pinned, manual])
                let remaining = Set(
                    try await lab.snapshots.list().filter { $0.state == .completed && $0.volumeId == volume.id }.map(
                        \.id))
                #expect(newestOfEachDay.sorted() == [13, 37, 61, 71])
                #expect(remaining == expected)
                #expect(remaining.contains(pinned) && remaining.contains(manual))
                #expect(try await lab.store.verify().isClean)

                // Five hours missed (daemon down): one catch-up run for the latest slot, not five.
                let before = try await lab.policies.history(policy.id).count
                let catchUp = try await lab.policies.runDue(now: Self.hour(77).addingTimeInterval(60))
                #expect(catchUp.count == 1 && catchUp.first?.slot == Self.hour(77))
                #expect(try await lab.policies.history(policy.id).count == before + 1)
            }
        }

        @Test func badInputIsRefusedOrWarnedAndNothingIsTakenByMistake() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let volume = try await lab.volumes.create(role: .data, size: 16 << 20, tags: ["backup": "daily"])
                let manual = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)

                await #expect {
                    _ = try await lab.policies.create(
                        PolicyRequest(
                            name: "bad-cron", targetTags: ["backup": "daily"],
                            schedule: PolicySchedule(cron: "0 25 * * *"),
                            retention: Retention(keepLast: 3)))
                } throws: { error in
                    (error as? SnaplabError)?.code == .invalidArgument
                        && (error as? SnaplabError)?.message.contains("hour") == true
                }
                await #expect {
                    _ = try await lab.policies.create(
                        PolicyRequest(
                            name: "keeps-nothing", targetTags: ["backup": "daily"],
                            schedule: PolicySchedule(intervalSeconds: 60),
                            retention: Retention()))
                } throws: { ($0 as? SnaplabError)?.message.contains("keeps nothing") == true }
                await #expect {
                    _ = try await lab.policies.create(
                        PolicyRequest(
                            name: "bad-zone", targetTags: ["backup": "daily"],
                            schedule: PolicySchedule(cron: "0 2 * * *", timeZone: "Mars/Olympus"),
                            retention: Retention(keepLast: 1)))
                } throws: { ($0 as? SnaplabError)?.message.contains("time zone") == true }
                #expect(try await lab.policies.list().isEmpty, "nothing half-created")

                let (nothing, warnings) = try await lab.policies.create(
                    PolicyRequest(
                        name: "nobody", targetTags: ["backup": "never"], schedule: PolicySchedule(intervalSeconds: 60),
                        retention: Retention(keepLast: 1)))
                #expect(warnings.first?.contains("backup=never") == true)
                let run = try #require(try await lab.policies.run(nothing.id))
                #expect(run.state == .succeeded && run.snapshotsTaken.isEmpty && run.snapshotsPruned.isEmpty)
                #expect(run.warnings.first?.contains("matches nothing") == true)
                #expect(try await lab.snapshots.list().map(\.id) == [manual.id], "the manual snapshot is untouched")

                // Two runners for one slot: only one runs it.
                let (daily, _) = try await lab.policies.create(
                    PolicyRequest(
                        name: "daily", targetTags: ["backup": "daily"],
                        schedule: PolicySchedule(intervalSeconds: 86_400),
                        retention: Retention(keepLast: 1)))
                let slot = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
                async let first = lab.policies.run(daily.id, slot: slot)
                async let second = lab.policies.run(daily.id, slot: slot)
                let results = try await [first, second]
                #expect(results.compactMap { $0 }.count == 1)
                let taken = try await lab.snapshots.list().filter { $0.tags["snaplab:policy"] == daily.id }
                #expect(taken.count == 1)
                #expect(
                    try await lab.snapshots.get(manual.id).state == .completed,
                    "keep-last 1 never prunes a manual snapshot")
            }
        }

        @Test func aDaemonKilledMidRunRetriesTheSlotWithoutDuplicates() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let small = try await lab.volumes.create(role: .data, size: 16 << 20, tags: ["backup": "nightly"])
                let big = try await lab.volumes.create(role: .data, size: 2 << 30, tags: ["backup": "nightly"])
                try HostTools.fillRandom(small.path, mebibytes: 4)
                try HostTools.fillRandom(big.path, mebibytes: 1536)
                let (policy, _) = try await lab.policies.create(
                    PolicyRequest(
                        name: "nightly", targetTags: ["backup": "nightly"],
                        schedule: PolicySchedule(intervalSeconds: 86_400),
                        retention: Retention(keepLast: 3)))

                let first = try Daemon.start(stateDirectory: testLab.directory)
                var victim: Snapshot?
                let deadline = ContinuousClock.now + .seconds(120)
                while victim == nil, ContinuousClock.now < deadline {
                    victim = try await lab.catalog.snapshots().first {
                        $0.volumeId == big.id && $0.state == .pending && $0.progress >= 3
                    }
                    if victim == nil { try await Task.sleep(for: .milliseconds(20)) }
                }
                let interrupted = try #require(victim, "the daemon never got to the big volume")
                kill(first.processIdentifier, SIGKILL)
                first.waitUntilExit()

                let second = try Daemon.start(stateDirectory: testLab.directory)
                defer { if second.isRunning { kill(second.processIdentifier, SIGKILL) } }
                var run: PolicyRun?
                while ContinuousClock.now < deadline + .seconds(120) {
                    run = try await lab.policies.history(policy.id).first
                    if run?.state == .succeeded || run?.state == .failed { break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                kill(second.processIdentifier, SIGTERM)
                second.waitUntilExit()
                #expect(second.terminationStatus == 0, "a graceful stop on SIGTERM")

                let finished = try #require(run)
                #expect(finished.state == .succeeded, "\(finished.errors)")
                #expect(finished.attempt == 2)
                #expect(try await lab.policies.history(policy.id).count == 1, "one run for the slot")
                let slot = slotText(finished.slot)
                let forSlot = try await lab.snapshots.list().filter { $0.tags["snaplab:slot"] == slot }
                #expect(forSlot.filter { $0.state == .completed && $0.volumeId == small.id }.count == 1)
                #expect(forSlot.filter { $0.state == .completed && $0.volumeId == big.id }.count == 1)
                #expect(try await lab.snapshots.get(interrupted.id).state == .error)
                #expect(try await lab.store.verify().isClean)
            }
        }

        @Test func aRealDaemonSnapshotsAndPrunesARunningInstanceAndADrillBootsTheRestore() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let bootSnapshot = try await lab.snapshots.wait(
                    for: try await lab.snapshots.create(volumeId: boot.id).id)
                let image = try await lab.images.register(
                    ImageRegistration(name: "drill-os", bootSnapshotId: bootSnapshot.id))
                let data = try await lab.volumes.create(role: .data, size: 32 << 20, tags: ["backup": "often"])
                let instance = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: boot.id, dataVolumes: [.init(volumeId: data.id)],
                        deleteBootOnTermination: false))
                _ = try await testLab.shell(instance.id, "echo precious > /data/file && sync")
                let (policy, _) = try await lab.policies.create(
                    PolicyRequest(
                        name: "often", targetTags: ["backup": "often"], schedule: PolicySchedule(intervalSeconds: 3),
                        retention: Retention(keepLast: 2),
                        drill: DrillSettings(image: image.id, command: "grep -q precious file")))

                let daemon = try Daemon.start(stateDirectory: testLab.directory)
                defer { if daemon.isRunning { kill(daemon.processIdentifier, SIGKILL) } }
                let deadline = ContinuousClock.now + .seconds(240)
                var runs: [PolicyRun] = []
                while ContinuousClock.now < deadline {
                    runs = try await lab.policies.history(policy.id).filter { $0.state == .succeeded }
                    if runs.count >= 4, runs.contains(where: { !$0.snapshotsPruned.isEmpty }) { break }
                    try await Task.sleep(for: .milliseconds(500))
                }
                kill(daemon.processIdentifier, SIGTERM)
                daemon.waitUntilExit()
                #expect(runs.count >= 4)
                let taken = try await lab.snapshots.list().filter { $0.tags["snaplab:policy"] == policy.id }
                #expect(taken.filter { $0.state == .completed }.count == 2, "keep-last 2 after \(runs.count) runs")
                #expect(runs.flatMap(\.snapshotsPruned).count >= 2)
                #expect(taken.allSatisfy { $0.consistency == .fsFrozen }, "the running guest was frozen")

                let drill = try await lab.policies.drill(policyId: policy.id)
                #expect(drill.passed, "\(drill.error ?? "") \(drill.targets.map(\.output))")
                #expect(drill.targets.first?.filesystemCheck == 0 && drill.targets.first?.commandStatus == 0)
                #expect(try await lab.policies.drills(of: policy.id).count == 1)
                #expect(
                    try await lab.volumes.list().allSatisfy { $0.tags["snaplab:drill"] == nil }, "the drill cleaned up")
                #expect(try await lab.instances.list().filter { $0.state != .terminated }.map(\.id) == [instance.id])
            }
        }
    }

    /// `snaplab daemon` as its own process.
    enum Daemon {
        static func start(stateDirectory: URL) throws -> Process {
            let process = Process()
            process.executableURL = CommandLineTests.binary
            process.arguments = ["daemon", "--tick", "1"]
            process.environment = ["SNAPLAB_STATE_DIR": stateDirectory.path, "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"]
            let log = FileHandle(forWritingAtPath: "/dev/null")
            process.standardOutput = log
            process.standardError = log
            try process.run()
            return process
        }
    }
}

/// How policy runs tag the slot a snapshot is for.
func slotText(_ slot: Date) -> String { ISO8601DateFormatter().string(from: slot) }
