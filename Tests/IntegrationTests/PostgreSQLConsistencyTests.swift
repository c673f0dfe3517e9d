import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// The seed's "after application transactions have been completed": PostgreSQL on a data disk, written to
    /// all along, snapshotted with the example hook (a CHECKPOINT before the freeze). The restored disk under a
    /// fresh instance recovers from that checkpoint (replaying only what came after it), keeps every row
    /// committed before the snapshot, and its index passes amcheck.
    @Suite struct PostgreSQLConsistencyTests {
        static let hook = ImageFixture.repositoryRoot.appendingPathComponent(
            "examples/postgresql-app-consistent/10-postgresql")
        static let bin = "/usr/lib/postgresql/15/bin"
        static let psql = "runuser -u postgres -- psql -X -A -t -v ON_ERROR_STOP=1 -h /var/run/postgresql"

        @Test func aCheckpointingHookMakesTheSnapshotApplicationConsistent() async throws {
            let build = try await DebianImageFixture.shared.build(extraPackages: ["postgresql"])
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let data = try await lab.volumes.create(role: .data, size: 1 << 30)
                let original = try await launch(build: build, data: data, testLab: testLab)
                let device = "/dev/disk/by-id/virtio-\(data.id.prefix(20))"
                _ = try await testLab.shell(
                    original.id,
                    """
                    set -e
                    systemctl stop postgresql
                    mkfs.ext4 -q -L pgdata \(device) && mkdir -p /srv/pg && mount LABEL=pgdata /srv/pg
                    chown postgres: /srv/pg
                    runuser -u postgres -- \(Self.bin)/initdb -D /srv/pg/data > /srv/pg/initdb.log
                    runuser -u postgres -- \(Self.bin)/pg_ctl -D /srv/pg/data -l /srv/pg/first.log -w -t 300 start
                    \(Self.psql) -c 'CREATE TABLE t (id bigserial PRIMARY KEY, v text NOT NULL)'
                    """)
                let hook = try Data(contentsOf: Self.hook)
                let installed = try await lab.instances.exec(
                    original.id,
                    [
                        "/bin/sh", "-c",
                        "cat > /etc/qemu/fsfreeze-hook.d/10-postgresql && chmod 755 /etc/qemu/fsfreeze-hook.d/10-postgresql",
                    ], input: hook, timeout: .seconds(60))
                #expect(installed.exitCode == 0, "\(installed.stderr)")
                // One insert per transaction, as fast as psql sends them, until the instance goes.
                _ = try await testLab.shell(
                    original.id,
                    """
                    setsid sh -c 'yes "INSERT INTO t (v) VALUES (md5(random()::text));" | \(Self.psql) > /dev/null 2>&1' \
                        < /dev/null > /dev/null 2>&1 &
                    """)
                let before = try await waitForRows(above: 200, in: original.id, testLab: testLab)

                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
                #expect(snapshot.state == .completed)
                #expect(snapshot.consistency == .appConsistent, "\(snapshot.consistencyNote ?? "")")
                #expect(snapshot.consistencyNote?.contains("10-postgresql") == true)
                let checkpoint = try await testLab.shell(original.id, "cat /run/snaplab-postgresql.checkpoint")
                    .trimmingCharacters(in: .whitespacesAndNewlines)
                let after = try await waitForRows(above: before, in: original.id, testLab: testLab)
                #expect(after > before, "writes kept going through the snapshot")

                let restored = try await lab.snapshots.restore(snapshot.id)
                let fresh = try await launch(build: build, data: restored, testLab: testLab)
                let control = try await testLab.shell(
                    fresh.id,
                    """
                    set -e
                    systemctl stop postgresql
                    mkdir -p /srv/pg && mount LABEL=pgdata /srv/pg
                    runuser -u postgres -- \(Self.bin)/pg_controldata -D /srv/pg/data
                    """)
                #expect(control.contains("in production"), "the snapshot holds a running cluster:\n\(control)")
                #expect(control.contains("REDO location:") && control.contains(checkpoint), "\(control)")

                let log = try await testLab.shell(
                    fresh.id,
                    """
                    runuser -u postgres -- \(Self.bin)/pg_ctl -D /srv/pg/data -l /srv/pg/second.log -w -t 600 start \
                        > /dev/null && cat /srv/pg/second.log
                    """)
                #expect(log.contains("automatic recovery in progress"), "\(log)")
                let redo = try #require(Self.redoRange(in: log), "no redo range in:\n\(log)")
                #expect(redo.start == Self.lsn(checkpoint), "recovery starts at the hook's checkpoint")
                #expect(redo.end - redo.start < 64 << 20, "recovery replayed \(redo.end - redo.start) bytes of WAL")
                print(
                    "PostgreSQL: \(before) rows committed before the snapshot; recovery from \(checkpoint) replayed \(redo.end - redo.start) bytes of WAL"
                )

                let kept = try await testLab.shell(
                    fresh.id, "\(Self.psql) -c 'SELECT count(*) FROM t WHERE id <= \(before)'")
                #expect(Int(kept.trimmingCharacters(in: .whitespacesAndNewlines)) == before)
                let checked = try await testLab.shell(
                    fresh.id,
                    """
                    \(Self.psql) -c 'CREATE EXTENSION amcheck' > /dev/null && \
                    \(Self.psql) -c "SELECT bt_index_check('t_pkey', true)" > /dev/null && echo checked
                    """)
                #expect(checked == "checked\n")
            }
        }

        private func launch(build: ImageBuild, data: Volume, testLab: TestLab) async throws -> Instance {
            let boot = try await testLab.lab.volumes.createBoot(from: build)
            var request = LaunchRequest(
                bootVolumeId: boot.id, dataVolumes: [LaunchRequest.DataVolume(volumeId: data.id)], memoryMiB: 1024,
                vcpus: 2, readyTimeout: .seconds(600))
            request.firmware = .direct
            return try await testLab.lab.instances.run(request)
        }

        /// Polls until the table holds more than `count` committed rows; returns the highest committed id.
        private func waitForRows(above count: Int, in instance: String, testLab: TestLab) async throws -> Int {
            let deadline = ContinuousClock.now + .seconds(300)
            while true {
                let result = try await testLab.lab.instances.exec(
                    instance, ["/bin/sh", "-c", "\(Self.psql) -c 'SELECT coalesce(max(id), 0) FROM t'"],
                    timeout: .seconds(60))
                let highest = Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
                if highest > count { return highest }
                try #require(
                    ContinuousClock.now < deadline, "the writer did not get past \(count) rows: \(result.stderr)")
                try await Task.sleep(for: .seconds(2))
            }
        }

        /// "redo starts at X/Y" and "redo done at X/Y" from PostgreSQL's log, as byte positions.
        static func redoRange(in log: String) -> (start: UInt64, end: UInt64)? {
            func position(after marker: String) -> UInt64? {
                guard let range = log.range(of: marker) else { return nil }
                let rest = log[range.upperBound...].prefix { !$0.isWhitespace }
                return lsn(String(rest))
            }
            guard let start = position(after: "redo starts at "), let end = position(after: "redo done at ") else {
                return nil
            }
            return (start, end)
        }

        static func lsn(_ text: String) -> UInt64? {
            let parts = text.split(separator: "/")
            guard parts.count == 2, let high = UInt64(parts[0], radix: 16), let low = UInt64(parts[1], radix: 16)
            else { return nil }
            return high << 32 | low
        }
    }
}
