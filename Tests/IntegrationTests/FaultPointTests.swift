import Faults
import Foundation
import SnaplabCore
import SnapshotStore
import Testing

extension RealGuestTests {
    /// The process is killed (SIGKILL, at a named fault point) at each step of capture, copy, commit, delete,
    /// gc, restore, image creation and a policy run; the next command that opens the lab must find no guest
    /// frozen, no backup job or qemu-nbd left, `store verify` clean, the interrupted work finished or marked
    /// `error` with the reason, and a retry that succeeds.
    @Suite struct FaultPointTests {
        /// Runs the CLI until the armed point kills it.
        static func killed(at point: FaultPoint, _ arguments: [String], testLab: TestLab) throws {
            let outcome = try CommandLineTests.runBinary(
                arguments, stateDirectory: testLab.directory,
                environment: [FaultPoint.environmentVariable: point.rawValue])
            #expect(
                outcome.stderr.contains("fault point \(point.rawValue) reached") && outcome.status == SIGKILL,
                "`\(arguments.joined(separator: " "))` was to die at \(point.rawValue): status \(outcome.status), \(outcome.stderr)"
            )
        }

        @Test func killsDuringCaptureCopyCommitAndImageCreationOnARunningGuest() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let boot = try await testLab.bootVolume()
                let data = try await testLab.lab.volumes.create(role: .data, size: 64 << 20)
                let instance = try await testLab.lab.instances.run(
                    LaunchRequest(bootVolumeId: boot.id, dataVolumes: [.init(volumeId: data.id)]))
                _ = try await testLab.shell(instance.id, "dd if=/dev/urandom of=/data/fill bs=1M count=24 && sync")

                // A Ctrl-C between freeze and thaw waits for the thaw: the guest writes at once, before any
                // command has opened the lab to recover
                let interrupted = try CommandLineTests.runBinary(
                    ["snapshot", "create", data.id, "--wait"], stateDirectory: testLab.directory,
                    environment: [
                        FaultPoint.environmentVariable: FaultPoint.captureAfterFreeze.rawValue,
                        "SNAPLAB_FAULT_SIGNAL": "INT",
                    ])
                // (`snapshot create --wait` drains on SIGINT: the copy finishes; elsewhere the shield holds it.)
                #expect(
                    [0, SIGINT].contains(interrupted.status) && interrupted.stderr.contains("reached"),
                    "status \(interrupted.status): \(interrupted.stderr)")
                _ = try await testLab.shell(instance.id, "echo after-ctrl-c >> /data/after && sync")

                // Where nothing drains on SIGINT, the shield holds it until the thaw, then the process ends by it.
                let held = try CommandLineTests.runBinary(
                    ["image", "create-from-instance", instance.id, "--name", "ctrl-c"],
                    stateDirectory: testLab.directory,
                    environment: [
                        FaultPoint.environmentVariable: FaultPoint.captureAfterFreeze.rawValue,
                        "SNAPLAB_FAULT_SIGNAL": "INT",
                    ])
                #expect(
                    held.status == SIGINT && held.stderr.contains("reached"), "status \(held.status): \(held.stderr)")
                _ = try await testLab.shell(instance.id, "echo after-held-ctrl-c >> /data/after && sync")

                let points: [FaultPoint] = [
                    .captureAfterFreeze, .captureAfterBackupBegin, .captureAfterThaw, .copyMidway,
                    .commitBeforeManifest, .commitBeforeCatalog,
                ]
                for point in points {
                    let before = Set(try await testLab.lab.snapshots.list().map(\.id))
                    try Self.killed(at: point, ["snapshot", "create", data.id, "--wait"], testLab: testLab)
                    let lab = try await Lab.open(paths: testLab.lab.paths)
                    let interrupted = try #require(try await lab.snapshots.list().first { !before.contains($0.id) })
                    if point == .commitBeforeCatalog {
                        #expect(
                            interrupted.state == .completed,
                            "its manifest reached the store: \(interrupted.errorMessage ?? "")")
                        #expect(interrupted.allocatedBytes >= 24 << 20)
                    } else {
                        #expect(interrupted.state == .error, "\(point): \(interrupted.state)")
                        #expect(interrupted.errorMessage?.contains("interrupted") == true)
                    }
                    // The guest writes (a frozen filesystem would block this until the exec times out).
                    _ = try await testLab.shell(instance.id, "echo \(point.rawValue) >> /data/after && sync")
                    let job = try HostTools.run(
                        "/usr/bin/virsh", ["-c", TestLab.uri, "domjobinfo", instance.domainName])
                    #expect(job.output.contains("None"), "no backup job left after \(point): \(job.output)")
                    #expect(try HostTools.processes(matching: "qemu-nbd.*\(data.id)").isEmpty)
                    #expect(try await lab.store.verify().isClean, "store clean after \(point)")

                    let retried = try await lab.snapshots.wait(
                        for: try await lab.snapshots.create(volumeId: data.id).id)
                    #expect(retried.state == .completed, "a retry after \(point): \(retried.errorMessage ?? "")")
                }

                // An image whose snapshots completed but that was never marked available.
                try Self.killed(
                    at: .imageBeforeAvailable, ["image", "create-from-instance", instance.id, "--name", "killed"],
                    testLab: testLab)
                let lab = try await Lab.open(paths: testLab.lab.paths)
                let image = try #require(try await lab.images.list().first { $0.name == "killed" })
                #expect(image.state == .available, "settled on open: \(image.state)")
                #expect(try await lab.store.verify().isClean)
                let again = try await lab.images.create(fromInstance: instance.id, name: "after-kill")
                #expect(again.state == .available)
            }
        }

        @Test func killsDuringDeleteGarbageCollectionRestoreAndAPolicyRun() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let volume = try await lab.volumes.create(role: .data, size: 64 << 20)
                try await lab.tags.create([volume.id], ["backup": "fault"])
                try HostTools.fillRandom(volume.path, mebibytes: 16)
                let kept = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
                try HostTools.fillRandom(volume.path, mebibytes: 8)
                let doomed = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
                try #require(kept.state == .completed && doomed.state == .completed)
                let reference = try await lab.snapshots.restore(kept.id)

                // Delete: the catalog row went first, so what is left is a copy in the store that a second delete
                // finishes, never a completed snapshot whose data is gone.
                try Self.killed(at: .deleteBetweenCatalogAndStore, ["snapshot", "delete", doomed.id], testLab: testLab)
                var reopened = try await Lab.open(paths: lab.paths)
                #expect(try await reopened.catalog.findSnapshot(doomed.id) == nil)
                try await reopened.snapshots.delete(doomed.id)
                #expect(try await reopened.store.open().hasManifest(doomed.id) == false)

                // Garbage collection, killed after writing its new indexes and after dropping the old ones.
                for point in [FaultPoint.gcAfterNewIndexes, .gcBeforePackDeletion] {
                    try Self.killed(at: point, ["store", "gc"], testLab: testLab)
                    reopened = try await Lab.open(paths: lab.paths)
                    #expect(try await reopened.store.verify().isClean, "store clean after \(point)")
                    let restored = try await reopened.snapshots.restore(kept.id)
                    try HostTools.run(
                        "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", reference.path, restored.path])
                    try await reopened.volumes.delete(restored.id)
                    // Write more garbage for the next round.
                    try HostTools.fillRandom(volume.path, mebibytes: 4)
                    let extra = try await reopened.snapshots.wait(
                        for: try await reopened.snapshots.create(volumeId: volume.id).id)
                    try await reopened.snapshots.delete(extra.id)
                }
                let swept = try await reopened.store.collectGarbage(options: GarbageOptions(unindexedGrace: .zero))
                #expect(swept.chunksRemoved + swept.packsDeleted > 0)
                #expect(try await reopened.store.verify().isClean)

                // A restore, killed half-way: nothing claims to be available; a retry restores it exactly.
                try Self.killed(at: .restoreMidway, ["snapshot", "restore", kept.id], testLab: testLab)
                reopened = try await Lab.open(paths: lab.paths)
                #expect(try await reopened.volumes.list().map(\.id).sorted() == [reference.id, volume.id].sorted())
                #expect(try HostTools.processes(matching: "qemu-nbd.*\(testLab.poolName)").isEmpty)
                let restored = try await reopened.snapshots.restore(kept.id)
                #expect(restored.state == .available)

                // A policy run, killed between its snapshots and its pruning: the retry of that slot takes over.
                let (policy, _) = try await reopened.policies.create(
                    PolicyRequest(
                        name: "fault", targetTags: ["backup": "fault"], schedule: PolicySchedule(intervalSeconds: 3600),
                        retention: Retention(keepLast: 1)))
                try Self.killed(at: .policyBeforePrune, ["policy", "run-now", policy.id], testLab: testLab)
                reopened = try await Lab.open(paths: lab.paths)
                let killedRun = try #require(try await reopened.policies.history(policy.id).last)
                #expect(killedRun.state == .running, "its process is gone; the next claim takes it over")
                let retried = try #require(try await reopened.policies.run(policy.id, slot: killedRun.slot))
                #expect(retried.state == .succeeded && retried.attempt == 2, "\(retried.errors)")
                let taken = try await reopened.snapshots.list().filter { $0.tags["snaplab:policy"] == policy.id }
                #expect(taken.count == 1 && taken[0].state == .completed, "the slot's snapshot was not taken twice")
                #expect(try await reopened.store.verify().isClean)
            }
        }
    }
}
