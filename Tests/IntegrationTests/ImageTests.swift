import Crypto
import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// Machine images from boot snapshots, and instances launched from them.
    @Suite struct ImageTests {
        @Test func instancesFromAnImageAreIndependentCopies() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 64 << 20)
                let source = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: boot.id,
                        dataVolumes: [.init(volumeId: data.id)]))
                _ = try await testLab.shell(
                    source.id, "echo boot-marker > /root/marker && echo release-1 > /data/app && sync")

                let image = try await lab.images.create(fromInstance: source.id, name: "web", description: "test image")
                #expect(image.state == .available && image.blockDeviceMappings.count == 1)
                #expect(image.sourceInstanceId == source.id)
                let bootSnapshot = try await lab.snapshots.get(image.bootSnapshotId)
                #expect(bootSnapshot.consistency == .fsFrozen && bootSnapshot.setId != nil)

                // Hydrated first (not lazy), so that the bases are there when the instances are.
                let three = try await lab.images.launch(ImageLaunchRequest(image: "web", count: 3, lazy: false))
                #expect(three.count == 3 && three.allSatisfy { $0.state == .running && $0.imageId == image.id })
                for instance in three {
                    #expect(
                        try await testLab.shell(instance.id, "cat /root/marker /data/app") == "boot-marker\nrelease-1\n"
                    )
                    let volumes = try await lab.catalog.volumes(attachedTo: instance.id)
                    #expect(volumes.count == 2 && volumes.allSatisfy { $0.baseSnapshotId != nil })
                }
                let bases = try await lab.catalog.bases()
                #expect(bases.count == 2, "one base per snapshot, however many instances")
                let baseDigests = try bases.map { try Self.digest(of: $0.path) }

                let writer = three[0]
                _ = try await testLab.shell(writer.id, "echo mine > /data/app && echo mine > /root/marker && sync")
                for sibling in three.dropFirst() {
                    #expect(
                        try await testLab.shell(sibling.id, "cat /root/marker /data/app") == "boot-marker\nrelease-1\n")
                }
                let fourth = try #require(try await lab.images.launch(ImageLaunchRequest(image: image.id)).first)
                #expect(try await testLab.shell(fourth.id, "cat /root/marker /data/app") == "boot-marker\nrelease-1\n")
                #expect(try bases.map { try Self.digest(of: $0.path) } == baseDigests, "the bases never change")
                #expect(try await testLab.shell(source.id, "cat /data/app") == "release-1\n")

                // Terminating the instances removes their overlays; the bases stay while the image is registered.
                for instance in three + [fourth] { _ = try await lab.instances.terminate(instance.id) }
                #expect(try await lab.catalog.bases().count == 2)
                _ = try await lab.images.deregister(image.id)
                #expect(try await lab.catalog.bases().isEmpty, "nothing uses the bases any more")
                #expect(bases.allSatisfy { !FileManager.default.fileExists(atPath: $0.path) })
            }
        }

        @Test func aSnapshotAnImageUsesCannotBeDeletedUntilDeregistered() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
                let image = try await lab.images.register(ImageRegistration(name: "tiny", bootSnapshotId: snapshot.id))
                await #expect { try await lab.snapshots.delete(snapshot.id) } throws: { error in
                    guard let error = error as? SnaplabError else { return false }
                    return error.code == .conflict && error.message.contains(image.id)
                }
                #expect(try await lab.snapshots.get(snapshot.id).state == .completed)

                _ = try await lab.images.deregister(image.id)
                #expect(try await lab.images.get(image.id).state == .deregistered)
                try await lab.snapshots.delete(snapshot.id)
                let report = try await lab.store.collectGarbage()
                #expect(report.bytesReclaimed >= snapshot.bytesStored)
                #expect(report.referencedChunks == 0)
                await #expect { _ = try await lab.images.launch(ImageLaunchRequest(image: image.id)) } throws: {
                    ($0 as? SnaplabError)?.code == .invalidState
                }
            }
        }

        @Test func upIsIdempotentAndDownLeavesOtherInstancesAlone() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
                _ = try await lab.images.register(
                    ImageRegistration(
                        name: "app", bootSnapshotId: snapshot.id,
                        dataDisks: [ImageRegistration.DataDisk(size: 16 << 20)]))
                let unrelated = try #require(try await lab.images.launch(ImageLaunchRequest(image: "app")).first)

                let spec = try EnvironmentSpec.parse(
                    """
                    name: env-test
                    instances:
                      - name: web
                        image: app
                        count: 2
                        data:
                          vdb: { empty: 32M }
                    """)
                let first = try await Environments(lab: lab).up(spec)
                #expect(first.created.count == 2 && first.kept.isEmpty)
                #expect(first.created.allSatisfy { $0.state == .running })
                let second = try await Environments(lab: lab).up(spec)
                #expect(second.created.isEmpty && second.kept.count == 2)
                #expect(Set(second.kept.map(\.id)) == Set(first.created.map(\.id)))
                for instance in first.created {
                    #expect(
                        try await lab.catalog.volumes(attachedTo: instance.id).first { $0.device == "vdb" }?.size == 32
                            << 20)
                }

                let down = try await Environments(lab: lab).down(spec)
                #expect(Set(down.removed.map(\.id)) == Set(first.created.map(\.id)))
                #expect(try await lab.instances.get(unrelated.id).state == .running)
                #expect(try await Environments(lab: lab).instances(of: "env-test").isEmpty)
            }
        }

        static func digest(of path: String) throws -> String {
            let data = try Data(contentsOf: URL(fileURLWithPath: path))
            return SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        }
    }
}
