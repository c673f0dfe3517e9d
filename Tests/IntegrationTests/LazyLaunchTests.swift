import Foundation
import Hummingbird
import HummingbirdTesting
import Libvirt
import SnaplabCore
import SnaplabServer
import Testing

extension RealGuestTests {
    /// Lazy launch and restore on real TCG guests: instances boot from snapshots that were never hydrated on
    /// the host, read their data through the export service while the bases hydrate (slowed with a pull rate so
    /// the test can act mid-pull), survive a kill -9 of that service, and end on local bases with the export no
    /// longer needed.
    @Suite struct LazyLaunchTests {
        /// 4 MiB/s: the 128 MiB data snapshot takes about half a minute to hydrate.
        static let pullRate: UInt64 = 4 << 20

        @Test func aNeverHydratedImageBootsAtOnceAndSurvivesTheExportServiceBeingKilled() async throws {
            try await TestLab.with { testLab in
                defer { LazyLaunchTests.stopExportService(testLab) }
                let lab = testLab.lab
                let (image, digest) = try await Self.imageWithData(testLab)
                #expect(try await lab.catalog.bases().isEmpty, "nothing is hydrated before the launch")

                var request = ImageLaunchRequest(image: image.id)
                request.pullRate = Self.pullRate
                let instance = try #require(try await lab.images.launch(request).first)
                #expect(instance.state == .running)
                let described = try await lab.instances.describe(instance.id)
                #expect(described.hydrations.count == 2, "boot and data disk read from the exports")
                #expect(described.volumes.allSatisfy { $0.lazy?.state == .pulling })
                let servicePid = try #require(ExportService.runningProcess(lab.paths))

                // The export service dies: the guest's next read of data it has not got pauses it instead of
                // failing, and a new service resumes it. The reader starts in the guest a few seconds after the
                // kill (a paused guest cannot be reached), on data it has never read.
                _ = try await testLab.shell(
                    instance.id,
                    "(sleep 5; sha256sum /data/blob > /tmp/sum 2>&1; echo end >> /tmp/sum) </dev/null >/dev/null 2>&1 &"
                )
                kill(servicePid, SIGKILL)
                try await Self.waitUntil("the guest pauses on an I/O error", timeout: .seconds(120)) {
                    try Self.pausedOnIOError(instance.id)
                }
                #expect(try await lab.instances.describe(instance.id).hydrations.count == 2, "still lazy")
                try await lab.lazy.resumeUnfinished()
                let newPid = try #require(ExportService.runningProcess(lab.paths))
                #expect(newPid != servicePid)
                // Until its disk reconnects, a resumed guest may pause again: the agent cannot answer then.
                try await Self.waitUntil("the guest is resumed and has read the file", timeout: .seconds(180)) {
                    let read = try? await lab.instances.exec(
                        instance.id, ["/bin/cat", "/tmp/sum"], timeout: .seconds(30))
                    return read?.stdout.contains("end") ?? false
                }
                #expect(try await Self.shellWhenRunning(testLab, instance.id, "cat /tmp/sum").hasPrefix(digest))

                // The pull restarts in the new service and ends with the instance on local bases.
                try await Self.waitUntil("the hydration ends", timeout: .seconds(300)) {
                    try await lab.instances.describe(instance.id).hydrations.isEmpty
                }
                let volumes = try await lab.catalog.volumes(attachedTo: instance.id)
                #expect(volumes.allSatisfy { $0.lazy == nil && $0.poolVolume.hasSuffix("-on-base.qcow2") })
                let xml = try Self.domainXML(instance.id)
                #expect(!xml.contains("nbd"), "the domain no longer reads from the export: \(xml)")
                #expect(try await lab.catalog.bases().allSatisfy { $0.state == .ready && $0.progress == 100 })

                // Without the export service at all, the data reads back and the guest writes and reboots.
                LazyLaunchTests.stopExportService(testLab)
                #expect(
                    try await testLab.shell(
                        instance.id, "sync; echo 3 > /proc/sys/vm/drop_caches; sha256sum /data/blob"
                    ).hasPrefix(digest))
                _ = try await lab.instances.stop(instance.id)
                let restarted = try await lab.instances.start(instance.id)
                #expect(restarted.state == .running)
                #expect(try await testLab.shell(instance.id, "sha256sum /data/blob").hasPrefix(digest))
                #expect(ExportService.runningProcess(lab.paths) == nil, "nothing needed the export service")

                // A second launch uses the hydrated bases directly.
                let second = try #require(try await lab.images.launch(ImageLaunchRequest(image: image.id)).first)
                #expect(try await lab.catalog.volumes(attachedTo: second.id).allSatisfy { $0.lazy == nil })
            }
        }

        @Test func aLazilyRestoredSnapshotIsUsableAtOnceAndEndsBitIdentical() async throws {
            try await TestLab.with { testLab in
                defer { LazyLaunchTests.stopExportService(testLab) }
                let lab = testLab.lab
                let (image, digest) = try await Self.imageWithData(testLab)
                let dataSnapshot = try #require(image.blockDeviceMappings.first?.snapshotId)
                let eager = try await lab.snapshots.restore(dataSnapshot)

                // Booted with at once: the guest mounts it and reads the file through the export.
                let attached = try await lab.lazy.restore(dataSnapshot, pullRate: Self.pullRate)
                #expect(attached.lazy?.snapshotId == dataSnapshot)
                let host = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: try await testLab.bootVolume().id, dataVolumes: [.init(volumeId: attached.id)]))
                #expect(try await testLab.shell(host.id, "sha256sum /data/blob").hasPrefix(digest))

                // Through the JSON API: the instance shows its disk's pull, and a lazy restore returns at once.
                let app = try SnaplabServer.buildApplication(lab: lab, configuration: ServerConfiguration())
                let unattachedId = try await app.test(.router) { client in
                    try await client.execute(uri: "/api/instances/\(host.id)", method: .get) { response in
                        #expect(response.status == .ok)
                        let body = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                        let pulls = body?["hydrations"] as? [[String: Any]] ?? []
                        #expect(pulls.count == 1 && pulls.first?["volumeId"] as? String == attached.id, "\(pulls)")
                    }
                    return try await client.execute(
                        uri: "/api/snapshots/\(dataSnapshot)/restore?lazy=1", method: .post,
                        headers: [.contentType: "application/json"], body: ByteBuffer(string: "{}")
                    ) { response in
                        #expect(response.status == .ok)
                        let volume =
                            try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
                        #expect((volume?["lazy"] as? [String: Any])?["snapshotId"] as? String == dataSnapshot)
                        return volume?["id"] as? String ?? ""
                    }
                }

                // Left unattached: rebased onto the hydrated base, bit-identical to an eager restore.
                let unattached = try await lab.catalog.volume(unattachedId)
                await #expect { try await lab.snapshots.delete(dataSnapshot) } throws: { error in
                    (error as? SnaplabError)?.code == .conflict
                }
                try await Self.waitUntil("both restores are hydrated", timeout: .seconds(300)) {
                    try await lab.catalog.lazyVolumes().isEmpty
                }
                let rebased = try await lab.catalog.volume(unattached.id)
                #expect(rebased.path == unattached.path, "rebased in place")
                _ = try HostTools.run(
                    "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", rebased.path, eager.path])
                #expect(try await lab.catalog.volume(attached.id).poolVolume.hasSuffix("-on-base.qcow2"))
                #expect(
                    try await testLab.shell(host.id, "echo 3 > /proc/sys/vm/drop_caches; sha256sum /data/blob")
                        .hasPrefix(digest))
            }
        }

        @Test func aDamagedChunkDegradesTheHydrationUntilTheStoreIsRepaired() async throws {
            try await TestLab.with { testLab in
                defer { LazyLaunchTests.stopExportService(testLab) }
                let lab = testLab.lab
                let source = try await lab.volumes.create(role: .data, size: 64 << 20)
                let random = testLab.directory.appendingPathComponent("random.bin")
                let urandom = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
                try urandom.readData(ofLength: 16 << 20).write(to: random)
                _ = try HostTools.run(
                    "/usr/bin/qemu-io", ["-f", "qcow2", "-c", "write -s \(random.path) 0 16M", source.path])
                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: source.id).id)
                #expect(snapshot.state == .completed)

                // Every pack gets a flipped byte in its middle; the originals are kept to repair the store with.
                let packs = try Self.files(under: testLab.directory, containing: "/packs/")
                #expect(!packs.isEmpty)
                var originals: [URL: Data] = [:]
                for pack in packs {
                    var bytes = try Data(contentsOf: pack)
                    originals[pack] = bytes
                    bytes[bytes.count / 2] ^= 0xFF
                    try bytes.write(to: pack)
                }
                let lazy = try await lab.lazy.restore(snapshot.id)
                try await Self.waitUntil("the hydration is degraded", timeout: .seconds(120)) {
                    try await lab.catalog.volume(lazy.id).lazy?.state == .degraded
                }
                let reason = try #require(try await lab.catalog.volume(lazy.id).lazy?.reason)
                #expect(reason.contains("chunk"), "the reason names the chunk: \(reason)")
                await #expect { try await lab.snapshots.delete(snapshot.id) } throws: { error in
                    (error as? SnaplabError)?.code == .conflict
                }

                for (pack, bytes) in originals { try bytes.write(to: pack) }
                try await Self.waitUntil("the hydration resumes and ends", timeout: .seconds(120)) {
                    try await lab.catalog.volume(lazy.id).lazy == nil
                }
                _ = try HostTools.run(
                    "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", lazy.path, source.path])
            }
        }

        static func files(under directory: URL, containing part: String) throws -> [URL] {
            let walker = FileManager.default.enumerator(at: directory, includingPropertiesForKeys: [.isRegularFileKey])
            return (walker?.allObjects as? [URL] ?? []).filter {
                $0.path.contains(part) && (try? $0.resourceValues(forKeys: [.isRegularFileKey]).isRegularFile) == true
            }
        }

        /// An image whose data disk holds `/data/blob` (48 MiB of random bytes) and that digest.
        static func imageWithData(_ testLab: TestLab) async throws -> (MachineImage, String) {
            let lab = testLab.lab
            let boot = try await testLab.bootVolume()
            let data = try await lab.volumes.create(role: .data, size: 128 << 20)
            let source = try await lab.instances.run(
                LaunchRequest(bootVolumeId: boot.id, dataVolumes: [.init(volumeId: data.id)]))
            let digest = try await testLab.shell(
                source.id,
                "head -c 50331648 /dev/urandom > /data/blob && sync && sha256sum /data/blob | cut -d' ' -f1"
            ).trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(digest.count == 64)
            let image = try await lab.images.create(fromInstance: source.id, name: "lazy", description: "lazy test")
            _ = try await lab.instances.terminate(source.id, deleteDataVolumes: true)
            return (image, digest)
        }

        /// A shell command in a guest that a lazy disk may pause again until it has reconnected to the restarted
        /// export service (the lab resumes it within a second or two).
        static func shellWhenRunning(_ testLab: TestLab, _ instance: String, _ script: String) async throws -> String {
            var output: String?
            try await waitUntil("`\(script)` runs in \(instance)", timeout: .seconds(120)) {
                output = try? await testLab.lab.instances.exec(
                    instance, ["/bin/sh", "-c", script], timeout: .seconds(60)
                )
                .stdout
                return output != nil
            }
            return output ?? ""
        }

        static func stopExportService(_ testLab: TestLab) {
            if let pid = ExportService.runningProcess(testLab.lab.paths) { kill(pid, SIGKILL) }
        }

        static func pausedOnIOError(_ domain: String) throws -> Bool {
            try Connection(uri: TestLab.uri).lookupDomain(name: domain).pausedReason() == .ioError
        }

        static func domainXML(_ domain: String) throws -> String {
            try Connection(uri: TestLab.uri).lookupDomain(name: domain).xml()
        }

        static func waitUntil(_ what: String, timeout: Duration, _ condition: () async throws -> Bool) async throws {
            let deadline = ContinuousClock.now + timeout
            while try await !condition() {
                guard ContinuousClock.now < deadline else {
                    Issue.record("timed out waiting until \(what)")
                    throw CancellationError()
                }
                try await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
