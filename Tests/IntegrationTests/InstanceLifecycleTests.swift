import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// Instances and volumes on real libvirt with real TCG guests.
    @Suite struct InstanceLifecycleTests {
        @Test func dataVolumeSurvivesRestartAndMovesToASecondInstance() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let firstBoot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 64 << 20, tags: ["app": "test"])

                let first = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: firstBoot.id, dataVolumes: [.init(volumeId: data.id)], fsck: .force))
                #expect(first.state == .running)
                let described = try await lab.instances.describe(first.id)
                #expect(described.volumes.map(\.device) == ["vda", "vdb"])
                let phases = described.bootMarkers.map(\.phase)
                #expect(phases.contains("fsck-start") && phases.contains("ready"))
                let fsckEnd = try #require(described.bootMarkers.first { $0.phase == "fsck-end" })
                #expect(["0", "1"].contains(fsckEnd.fields["rc"]), "e2fsck exit \(fsckEnd.fields["rc"] ?? "?")")
                #expect(try await testLab.shell(first.id, "mount").contains("/dev/vdb on /data type ext4"))

                let proof = "written-by-\(first.id)"
                _ = try await testLab.shell(first.id, "echo \(proof) > /data/proof && sync")

                let stopped = try await lab.instances.stop(first.id)
                #expect(stopped.state == .stopped)
                await #expect { _ = try await lab.instances.exec(first.id, ["/bin/true"]) } throws: {
                    ($0 as? SnaplabError)?.code == .invalidState
                }
                let restarted = try await lab.instances.start(first.id)
                #expect(restarted.state == .running)
                #expect(try await testLab.shell(first.id, "cat /data/proof") == "\(proof)\n")

                let terminated = try await lab.instances.terminate(first.id)
                #expect(terminated.state == .terminated)
                await #expect { _ = try await lab.volumes.get(firstBoot.id) } throws: {
                    ($0 as? SnaplabError)?.code == .notFound
                }
                let released = try await lab.volumes.get(data.id)
                #expect(released.state == .available && released.instanceId == nil)

                let secondBoot = try await testLab.bootVolume()
                #expect(secondBoot.id != firstBoot.id && secondBoot.path != firstBoot.path)
                let second = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: secondBoot.id, dataVolumes: [.init(volumeId: data.id)]))
                #expect(try await testLab.shell(second.id, "cat /data/proof") == "\(proof)\n")
                #expect(try await testLab.shell(second.id, "hostname") == "\(second.id)\n")

                _ = try await lab.instances.terminate(second.id, deleteDataVolumes: true)
                #expect(try await lab.volumes.list().isEmpty)
            }
        }

        @Test func badInputGetsClearErrorsAndChangesNothing() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let unknownVolume = "vol-0000000000000dead"
                let unknownInstance = "i-0000000000000dead"
                await #expect { _ = try await lab.instances.run(LaunchRequest(bootVolumeId: unknownVolume)) } throws: {
                    ($0 as? SnaplabError)?.code == .notFound
                }
                await #expect { _ = try await lab.instances.stop(unknownInstance) } throws: {
                    ($0 as? SnaplabError)?.code == .notFound
                }
                await #expect { _ = try await lab.instances.terminate(unknownInstance) } throws: {
                    ($0 as? SnaplabError)?.code == .notFound
                }
                #expect(try await lab.instances.list().isEmpty)

                let boot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 32 << 20)
                await #expect { _ = try await lab.instances.run(LaunchRequest(bootVolumeId: data.id)) } throws: {
                    ($0 as? SnaplabError)?.code == .invalidArgument
                }
                #expect(try await lab.instances.list().isEmpty)

                let instance = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: boot.id, dataVolumes: [.init(volumeId: data.id)], fsck: .skip))
                for attached in [data.id, boot.id] {
                    await #expect { try await lab.volumes.delete(attached) } throws: { error in
                        guard let error = error as? SnaplabError else { return false }
                        return error.code == .invalidState && error.message.contains(instance.id)
                    }
                    #expect(try await lab.volumes.get(attached).state == .inUse)
                }
                let otherBoot = try await testLab.bootVolume()
                await #expect {
                    _ = try await lab.instances.run(
                        LaunchRequest(
                            bootVolumeId: otherBoot.id,
                            dataVolumes: [.init(volumeId: data.id)]))
                } throws: { ($0 as? SnaplabError)?.code == .invalidState }
                #expect(try await lab.instances.list().map(\.id) == [instance.id])
                #expect(try await lab.volumes.get(otherBoot.id).state == .available)

                // Stopped, the volume is still attached: still refused.
                _ = try await lab.instances.stop(instance.id)
                await #expect { try await lab.volumes.delete(data.id) } throws: {
                    ($0 as? SnaplabError)?.code == .invalidState
                }
            }
        }

        @Test func unreachableLibvirtSaysWhatToDo() async throws {
            let uri = "qemu:///system?socket=/nonexistent/libvirt-sock"
            await #expect { _ = try await Hypervisor.connect(uri: uri) } throws: { error in
                guard let error = error as? SnaplabError else { return false }
                return error.code == .hypervisor && error.message.contains("libvirtd -d") && error.cause != nil
            }
            let directory = URL(fileURLWithPath: "/tmp/snaplab-test-\(UUID().uuidString.prefix(8).lowercased())")
            defer { try? FileManager.default.removeItem(at: directory) }
            let lab = try Lab(paths: LabPaths(stateDirectory: directory))
            await #expect { _ = try await lab.hosts.initialize(uri: uri, poolName: "never", poolPath: nil) } throws: {
                ($0 as? SnaplabError)?.code == .hypervisor
            }
            #expect(try await lab.catalog.hosts().isEmpty)
        }
    }
}
