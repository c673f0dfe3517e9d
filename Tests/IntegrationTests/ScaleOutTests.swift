import Foundation
import SnaplabCore
import SnaplabTestSupport
import SnapshotStore
import Testing

extension RealGuestTests {
    /// Snapshots in S3 storage (Ceph's object gateway on loopback; moto where a test needs a server it can cut
    /// off and lose) and a second libvirt host (root's `qemu:///session` daemon, which libvirt starts itself).
    @Suite struct ScaleOutTests {
        static func useCredentials(_ environment: [String: String]) {
            for (name, value) in environment where name.hasPrefix("AWS_") { setenv(name, value, 1) }
        }

        static func bucketURL(_ endpoint: String) -> String {
            "s3://lab-\(UUID().uuidString.prefix(12).lowercased())/snaplab?endpoint=\(endpoint)"
        }

        @Test func anImageFromHostAInS3LaunchesOnHostBWithItsData() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let gateway = try await CephGateway.shared.start()
                Self.useCredentials(gateway.environment)
                try await lab.store.setURL(Self.bucketURL(gateway.endpoint))
                let suffix = testLab.poolName.replacingOccurrences(of: "snaplab-test-", with: "")
                _ = try await lab.hosts.add(
                    name: "b", uri: "qemu:///session", poolName: "snaplab-b-\(suffix)",
                    poolPath: testLab.directory.appendingPathComponent("pool-b").path)
                #expect(try await lab.hosts.summaries().map(\.host.name).sorted() == ["b", "local"])

                let boot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 32 << 20)
                let onA = try await lab.instances.run(
                    LaunchRequest(bootVolumeId: boot.id, dataVolumes: [.init(volumeId: data.id)]))
                #expect(onA.host == "local")
                _ = try await testLab.shell(
                    onA.id, "echo written-on-a > /data/origin && echo os-of-a > /root/os && sync")
                let image = try await lab.images.create(fromInstance: onA.id, name: "from-a")
                let store = try await lab.store.open()
                #expect(store.backend.location.hasPrefix("s3://"))
                #expect(try await store.hasManifest(image.bootSnapshotId))

                var request = ImageLaunchRequest(image: image.id, lazy: false)
                request.host = "b"
                let onB = try #require(try await lab.images.launch(request).first)
                #expect(onB.host == "b" && onB.state == .running)
                #expect(try await testLab.shell(onB.id, "cat /data/origin /root/os") == "written-on-a\nos-of-a\n")
                #expect(try await lab.catalog.bases().contains { $0.host == "b" }, "host b hydrated its own base")

                // Placement without --host goes to the host running fewer instances (here each runs one: by name).
                let summaries = try await lab.hosts.summaries()
                #expect(summaries.allSatisfy { $0.instances == 1 })
                #expect(try await lab.hosts.placement(nil).name == "b")

                // store copy: S3 → directory → the snapshots there verify.
                let copyDirectory = testLab.directory.appendingPathComponent("copy")
                let report = try await lab.store.copy(to: "dir://\(copyDirectory.path)")
                #expect(report.snapshotsCopied.count == 2 && report.documentsCopied == 1)
                let copied = try await SnapshotStore.open(DirectoryBackend(root: copyDirectory))
                #expect(try await copied.verify().isClean)
                #expect(Set(try await copied.snapshotIds()) == Set(image.snapshotIds))
            }
        }

        @Test func anS3OutageMidUploadEndsCompletedAfterRetriesOrInErrorNeverHalfWritten() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                // moto, not Ceph: this test kills the server and needs it to lose everything it held.
                Self.useCredentials(MotoServer.environment)
                let moto = MotoServer(port: Int.random(in: 30_000..<32_000))
                let motoEndpoint = try await moto.endpoint()
                let proxy = TCPProxy(target: Int(motoEndpoint.split(separator: ":").last ?? "") ?? 0)
                try proxy.start()
                try await lab.store.setURL(Self.bucketURL(proxy.endpoint))
                let volume = try await lab.volumes.create(role: .data, size: 1 << 30)
                try HostTools.fillRandom(volume.path, mebibytes: 768)

                // The server goes away for a few seconds while packs are being uploaded: retries carry the copy.
                let first = try await lab.snapshots.create(volumeId: volume.id)
                try await waitForProgress(first.id, lab: lab)
                proxy.kill()
                try await Task.sleep(for: .seconds(3))
                try proxy.start()
                let survived = try await lab.snapshots.wait(for: first.id)
                #expect(survived.state == .completed, "\(survived.errorMessage ?? "")")
                #expect(try await lab.store.verify().isClean)
                let restored = try await lab.snapshots.restore(first.id)
                try HostTools.run(
                    "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", volume.path, restored.path])
                try await lab.volumes.delete(restored.id)

                // The server itself dies (moto keeps nothing): the copy cannot finish and says so.
                try HostTools.fillRandom(volume.path, mebibytes: 768)
                let second = try await lab.snapshots.create(volumeId: volume.id)
                try await waitForProgress(second.id, lab: lab)
                await moto.stop()
                let failed = try await lab.snapshots.wait(for: second.id)
                #expect(failed.state == .error)
                #expect(failed.errorMessage?.isEmpty == false)
                #expect(
                    try await lab.snapshots.list().filter { $0.state == .completed }.map(\.id) == [first.id],
                    "nothing half-written is listed as completed")
                proxy.kill()
            }
        }

        private func waitForProgress(_ id: String, lab: Lab) async throws {
            let deadline = ContinuousClock.now + .seconds(120)
            while ContinuousClock.now < deadline {
                let snapshot = try await lab.snapshots.get(id)
                if snapshot.state != .pending || snapshot.progress >= 5 { return }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }
}
