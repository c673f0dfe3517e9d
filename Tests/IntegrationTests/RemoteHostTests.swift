import Foundation
import SnaplabCore
import SnaplabTestSupport
import Testing

extension RealGuestTests {
    /// A second host that is really another host: its own network and mount namespaces, libvirtd over TCP, a
    /// pool this machine cannot see. Every byte it gets goes through libvirt's streams; it is awaited through the
    /// guest agent.
    @Suite struct RemoteHostTests {
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
                    _ = try await lab.instances.terminate(onB.id, deleteDataVolumes: true)
                }
            }
        }
    }
}
