import Foundation
import SnaplabCore
import SnaplabTestSupport
import Synchronization
import Testing

extension RealGuestTests {
    /// A second host that is really another host: its own network and mount namespaces, libvirtd over TCP, a
    /// pool this machine cannot see. Every byte it gets goes through libvirt's streams; it is awaited through the
    /// guest agent.
    @Suite struct RemoteHostTests {
        /// Restores a snapshot on this machine's host and reads a file of its filesystem from the host side.
        static func expectFile(_ path: String, _ content: String, in snapshotId: String, restoredOnA lab: Lab)
            async throws
        {
            let restored = try await lab.snapshots.restore(snapshotId, host: "local")
            let raw = try HostTools.rawCopy(of: restored.path)
            defer { try? FileManager.default.removeItem(at: raw) }
            #expect(try HostTools.cat(raw, path) == content)
            try await lab.volumes.delete(restored.id)
        }

        @Test func anImageMadeOnALaunchesOnHostBThroughLibvirtAlone() async throws {
            let gateway = try await CephGateway.shared.start()
            ScaleOutTests.useCredentials(gateway.environment)
            try await NamespaceHost.with { hostB in
                try await TestLab.with { testLab in
                    let lab = testLab.lab
                    try await lab.store.setURL(ScaleOutTests.bucketURL(gateway.endpoint))
                    _ = try await lab.hosts.add(
                        name: "b", uri: hostB.uri, poolName: "snaplab-\(hostB.name)", poolPath: NamespaceHost.poolPath)
                    let summaryB = try #require(try await lab.hosts.summaries().first { $0.host.name == "b" })
                    #expect(summaryB.problem == nil && (summaryB.poolCapacity ?? 0) >= 4 << 30, "\(summaryB)")

                    let boot = try await testLab.bootVolume()
                    let data = try await lab.volumes.create(role: .data, size: 32 << 20)
                    let onA = try await lab.instances.run(
                        LaunchRequest(bootVolumeId: boot.id, dataVolumes: [.init(volumeId: data.id)]))
                    _ = try await testLab.shell(onA.id, "echo written-on-a > /data/origin && sync")
                    let image = try await lab.images.create(fromInstance: onA.id, name: "from-a")

                    var request = ImageLaunchRequest(image: image.id, lazy: false)
                    request.host = "b"
                    let onB = try #require(try await lab.images.launch(request).first)
                    #expect(onB.host == "b" && onB.state == .running)
                    #expect(try await testLab.shell(onB.id, "cat /data/origin") == "written-on-a\n")
                    let volumesOnB = try await lab.catalog.volumes(attachedTo: onB.id)
                    #expect(volumesOnB.count == 2)
                    for volume in volumesOnB {
                        #expect(volume.path.hasPrefix(NamespaceHost.poolPath))
                        #expect(!FileManager.default.fileExists(atPath: volume.path), "B's pool is not this machine's")
                    }

                    // B's console, streamed through libvirt: what the guest prints from now on.
                    let seen = Mutex(Data())
                    let follower = Task {
                        try await lab.instances.followConsole(onB.id) { data in
                            seen.withLock { $0.append(data) }
                            return true
                        }
                    }
                    let deadline = ContinuousClock.now + .seconds(120)
                    while !String(decoding: seen.withLock { $0 }, as: UTF8.self).contains("console-from-b") {
                        try #require(ContinuousClock.now < deadline, "the console stream never showed the line")
                        _ = try await testLab.shell(onB.id, "echo console-from-b > /dev/ttyS0")
                        try await Task.sleep(for: .milliseconds(500))
                    }
                    follower.cancel()
                    _ = await follower.result

                    // A snapshot of B's running instance: its backup job's export is read over TCP.
                    _ = try await testLab.shell(onB.id, "echo written-on-b > /data/b && sync")
                    let dataOnB = try #require(volumesOnB.first { $0.role == .data })
                    let running = try await lab.snapshots.wait(
                        for: try await lab.snapshots.create(volumeId: dataOnB.id).id)
                    #expect(running.state == .completed, "\(running.errorMessage ?? "")")
                    #expect(running.consistency == .fsFrozen || running.consistency == .appConsistent)
                    try await Self.expectFile("/b", "written-on-b\n", in: running.id, restoredOnA: lab)

                    // Stopped, the volume is read through libvirt's download stream.
                    _ = try await lab.instances.stop(onB.id, wait: true)
                    let stopped = try await lab.snapshots.wait(
                        for: try await lab.snapshots.create(volumeId: dataOnB.id).id)
                    #expect(stopped.state == .completed, "\(stopped.errorMessage ?? "")")
                    #expect(stopped.consistencyNote?.contains("read whole from host b") == true)
                    try await Self.expectFile("/origin", "written-on-a\n", in: stopped.id, restoredOnA: lab)

                    // B dies (libvirtd, virtlogd and qemu killed). It cannot be fenced through libvirt any more:
                    // evacuation needs --force; then B's instance comes back on A from its latest snapshots.
                    _ = try await lab.instances.start(onB.id)
                    try await hostB.kill()
                    let evacuation = HostEvacuation(lab: lab)
                    await #expect {
                        _ = try await evacuation.evacuate("b")
                    } throws: { ($0 as? SnaplabError)?.message.contains("--force") == true }
                    #expect(try await lab.instances.get(onB.id).state == .running, "nothing moved without --force")
                    let report = try await evacuation.evacuate("b", force: true)
                    let relaunch = try #require(report.relaunches.first)
                    #expect(report.relaunches.count == 1 && relaunch.error == nil, "\(report)")
                    #expect(relaunch.sources["vdb"] == stopped.id, "the data disk from its newest snapshot")
                    #expect(relaunch.sources["vda"] == image.bootSnapshotId, "the boot disk from the image")
                    #expect(try #require(relaunch.lostSeconds) > 0)
                    let back = try await lab.instances.get(try #require(relaunch.newInstanceId))
                    #expect(back.host == "local" && back.state == .running)
                    #expect(
                        try await testLab.shell(back.id, "cat /data/origin /data/b") == "written-on-a\nwritten-on-b\n")
                    let old = try await lab.instances.get(onB.id)
                    #expect(old.state == .terminated && old.stateReason?.contains("relaunched as \(back.id)") == true)
                    let stale = try await lab.catalog.volumes().filter { $0.host == "b" }
                    #expect(!stale.isEmpty && stale.allSatisfy { $0.tags["snaplab:stale"] != nil })
                    #expect(try await evacuation.evacuate("b", force: true).relaunches.isEmpty, "never twice")
                }
            }
        }
    }
}
