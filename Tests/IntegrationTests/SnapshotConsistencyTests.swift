import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// A guest appends numbered records to /data while the host snapshots the data volume again and again.
    @Suite struct SnapshotConsistencyTests {
        /// Installed in the guest: at freeze time it pauses the writer and notes how many records the
        /// filesystem holds, at thaw time it lets the writer go on.
        static let freezeHook = """
            #!/bin/sh
            case "$1" in
                freeze) kill -STOP "$(cat /run/writer.pid)"; wc -l < /data/records >> /run/frozen-counts ;;
                thaw) kill -CONT "$(cat /run/writer.pid)" ;;
            esac
            """

        static let writer = """
            sh -c 'echo $$ > /run/writer.pid; i=0
              while [ ! -e /run/stop-writer ]; do i=$((i+1)); echo "record $i" >> /data/records; done' \
              > /dev/null 2>&1 &
            """

        @Test func snapshotsWhileWritingAreConsistentPrefixes() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 64 << 20)
                let instance = try await lab.instances.run(
                    LaunchRequest(
                        bootVolumeId: boot.id,
                        dataVolumes: [.init(volumeId: data.id)]))
                let hook = Self.freezeHook.replacingOccurrences(of: "'", with: "'\\''")
                _ = try await testLab.shell(
                    instance.id,
                    "printf '%s\\n' '\(hook)' > /etc/qemu/fsfreeze-hook.d/10-records && chmod +x /etc/qemu/fsfreeze-hook.d/10-records"
                )
                _ = try await testLab.shell(instance.id, Self.writer)

                var frozen: [Snapshot] = []
                var crash: [Snapshot] = []
                var seen = 0
                for round in 0..<4 {
                    seen = try await waitForRecords(beyond: seen + 200, testLab: testLab, instance: instance.id)
                    let freeze = round % 2 == 0
                    let created = try await lab.snapshots.create(
                        volumeId: data.id, options: SnapshotOptions(freeze: freeze))
                    let finished = try await lab.snapshots.wait(for: created.id)
                    #expect(finished.state == .completed, "\(finished.errorMessage ?? "")")
                    if freeze {
                        // The records hook ran and succeeded before the freeze: application-consistent.
                        #expect(finished.consistency == .appConsistent, "\(finished.consistencyNote ?? "")")
                        #expect(finished.consistencyNote?.contains("10-records") == true)
                        frozen.append(finished)
                    } else {
                        #expect(finished.consistency == .crash)
                        crash.append(finished)
                    }
                }
                _ = try await testLab.shell(instance.id, "touch /run/stop-writer")
                let counts = try await testLab.shell(instance.id, "cat /run/frozen-counts")
                    .split(separator: "\n").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
                #expect(counts.count == frozen.count)
                #expect(frozen.count == 2 && crash.count == 2)
                #expect(frozen.contains { $0.incremental }, "later snapshots read only what changed")

                for (snapshot, expected) in zip(frozen, counts) {
                    let records = try await restoredRecords(snapshot, lab: lab, repair: false)
                    #expect(records.fsck == 0, "a frozen filesystem needs no repair (e2fsck -fn exit \(records.fsck))")
                    #expect(
                        records.lines == (1...max(1, expected)).map { "record \($0)" },
                        "exactly the \(expected) records written before the freeze; got \(records.lines.count)")
                }
                for snapshot in crash {
                    let records = try await restoredRecords(snapshot, lab: lab, repair: true)
                    #expect([0, 1].contains(records.fsck), "journal replay at most (e2fsck -fy exit \(records.fsck))")
                    #expect(
                        records.lines == (0..<records.lines.count).map { "record \($0 + 1)" },
                        "a gap-free prefix of the records")
                }
            }
        }

        private func waitForRecords(beyond count: Int, testLab: TestLab, instance: String) async throws -> Int {
            while true {
                let lines =
                    Int(
                        try await testLab.shell(instance, "wc -l < /data/records")
                            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                if lines >= count { return lines }
                try await Task.sleep(for: .milliseconds(200))
            }
        }

        private func restoredRecords(_ snapshot: Snapshot, lab: Lab, repair: Bool) async throws
            -> (fsck: Int32, lines: [String])
        {
            let volume = try await lab.snapshots.restore(snapshot.id)
            let raw = try HostTools.rawCopy(of: volume.path)
            defer { try? FileManager.default.removeItem(at: raw) }
            let status = try HostTools.fsck(raw, repair: repair)
            let lines = try HostTools.cat(raw, "/records").split(separator: "\n").map(String.init)
            try await lab.volumes.delete(volume.id)
            return (status, lines)
        }
    }
}
