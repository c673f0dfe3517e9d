import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    @Suite struct SnapshotLifecycleTests {
        @Test func bootAndDataVolumesSeparatelyAndAsASetAndBootFromARestore() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 64 << 20)
                let instance = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: boot.id,
                        dataVolumes: [.init(volumeId: data.id)]))
                _ = try await testLab.shell(
                    instance.id, "echo boot-marker > /root/marker && echo data-v1 > /data/file && sync")

                let bootOnly = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
                let dataOnly = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
                #expect(bootOnly.state == .completed && dataOnly.state == .completed)
                #expect(bootOnly.volumeRole == .boot && bootOnly.boot != nil)
                #expect(bootOnly.consistency == .fsFrozen, "\(bootOnly.consistencyNote ?? "")")
                #expect(bootOnly.setId == nil)

                _ = try await testLab.shell(instance.id, "echo data-v2 > /data/file && sync")
                let set = try await lab.snapshots.createSet(instanceId: instance.id)
                #expect(set.count == 2)
                let setId = try #require(set.first?.setId)
                var finished: [Snapshot] = []
                for snapshot in set { finished.append(try await lab.snapshots.wait(for: snapshot.id)) }
                #expect(finished.allSatisfy { $0.state == .completed && $0.setId == setId })
                #expect(Set(finished.map(\.createdAt)).count == 1, "one instant for the whole set")
                #expect(Set(finished.map(\.volumeId)) == [boot.id, data.id])
                #expect(finished.allSatisfy { $0.incremental }, "the set builds on the single snapshots")

                // A new instance from the set: boot volume and data volume restored.
                let setBoot = try #require(finished.first { $0.volumeRole == .boot })
                let setData = try #require(finished.first { $0.volumeRole == .data })
                let restoredBoot = try await lab.snapshots.restore(setBoot.id)
                let restoredData = try await lab.snapshots.restore(setData.id)
                #expect(restoredBoot.role == .boot && restoredBoot.boot == boot.boot)
                let copy = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: restoredBoot.id,
                        dataVolumes: [.init(volumeId: restoredData.id)]))
                #expect(try await testLab.shell(copy.id, "cat /root/marker /data/file") == "boot-marker\ndata-v2\n")

                // The single data snapshot still restores the older content.
                let older = try await lab.snapshots.restore(dataOnly.id)
                let raw = try HostTools.rawCopy(of: older.path)
                defer { try? FileManager.default.removeItem(at: raw) }
                #expect(try HostTools.cat(raw, "/file") == "data-v1\n")
            }
        }

        @Test func incrementalSnapshotReadsAndStoresWhatChanged() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 384 << 20)
                let instance = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: boot.id,
                        dataVolumes: [.init(volumeId: data.id)]))
                _ = try await testLab.shell(
                    instance.id, "dd if=/dev/urandom of=/data/big bs=1M count=256 2>/dev/null && sync")
                let full = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
                #expect(full.state == .completed && !full.incremental)

                // ~1 % of the volume: 60 scattered 64 KiB writes.
                let changed: UInt64 = 60 * 65536
                _ = try await testLab.shell(
                    instance.id,
                    """
                    i=0; while [ $i -lt 60 ]; do
                      dd if=/dev/urandom of=/data/big bs=64k count=1 seek=$(( (i * 67) % 4096 )) conv=notrunc 2>/dev/null
                      i=$((i+1)); done; sync
                    """)
                let next = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
                #expect(next.state == .completed && next.incremental && next.parentId == full.id)
                print(
                    """
                    incremental: volume \(ByteSize.format(data.size)), allocated \(ByteSize.format(next.allocatedBytes)); \
                    full read \(ByteSize.format(full.bytesRead)), stored \(ByteSize.format(full.bytesStored)); \
                    after writing \(ByteSize.format(changed)): read \(ByteSize.format(next.bytesRead)), \
                    changed \(ByteSize.format(next.bytesChanged)), stored \(ByteSize.format(next.bytesStored))
                    """)
                #expect(full.bytesRead >= 256 << 20)
                // ext4's 4 KiB blocks need not sit on 64 KiB chunk boundaries: a 64 KiB write touches up to two
                // chunks, and the filesystem's own metadata changes too.
                #expect(next.bytesRead <= changed * 3, "reads about what changed")
                #expect(next.bytesRead * 20 < next.allocatedBytes, "reads a small fraction of the volume")
                #expect(next.bytesStored <= UInt64(Double(next.bytesChanged) * 1.1))
                #expect(next.bytesStored >= changed * 9 / 10, "random data does not compress")

                // Stopped, the volume keeps the bitmap: the next snapshot is incremental from the running one.
                _ = try await lab.instances.stop(instance.id)
                let offline = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
                #expect(offline.state == .completed && offline.incremental && offline.parentId == next.id)
                #expect(offline.bytesRead < 4 << 20, "only the unmount's writes")

                // Deleting the older snapshots does not break the newest one.
                try await lab.snapshots.delete(full.id)
                try await lab.snapshots.delete(next.id)
                let collected = try await lab.store.collectGarbage()
                #expect(
                    collected.bytesReclaimed + collected.deadBytesKept >= changed, "the overwritten data is garbage")
                #expect(try await lab.store.verify().isClean)
                let restored = try await lab.snapshots.restore(offline.id)
                try HostTools.run(
                    "/usr/bin/qemu-img", ["compare", "-f", "qcow2", "-F", "qcow2", data.path, restored.path])
            }
        }
    }
}
