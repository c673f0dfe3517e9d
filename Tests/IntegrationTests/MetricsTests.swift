import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// `GET /metrics` of a real `snaplab serve` after a launch, a policy run (by this process: the server counts
    /// what another process did, from the catalog), a restore and API calls: every series is there, with values
    /// that follow from what the test did.
    @Suite struct MetricsTests {
        @Test func afterAPolicyRunEverySeriesIsThere() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let boot = try await testLab.bootVolume()
                let data = try await lab.volumes.create(role: .data, size: 32 << 20, tags: ["backup": "hourly"])
                let instance = try await lab.instances.run(
                    LaunchRequest(bootVolumeId: boot.id, dataVolumes: [.init(volumeId: data.id)]))
                _ = try await testLab.shell(
                    instance.id, "dd if=/dev/urandom of=/data/blob bs=1M count=4 2>/dev/null && sync")
                let (policy, _) = try await lab.policies.create(
                    PolicyRequest(
                        name: "hourly", targetTags: ["backup": "hourly"],
                        schedule: PolicySchedule(intervalSeconds: 3600), retention: Retention(keepLast: 3)))
                let run = try #require(try await lab.policies.run(policy.id))
                #expect(run.state == .succeeded, "\(run.errors)")
                let snapshotId = try #require(run.snapshotsTaken.first)
                let restored = try await lab.snapshots.restore(snapshotId)

                try await Server.with(stateDirectory: testLab.directory) { endpoint in
                    _ = try HostTools.run(
                        "/usr/bin/curl",
                        ["-s", "-o", "/dev/null", "-d", "Action=DescribeVolumes&Version=2016-11-15", "\(endpoint)/"])
                    _ = try HostTools.run(
                        "/usr/bin/curl",
                        ["-s", "-o", "/dev/null", "-d", "Action=MakeMeASeries\(UUID())", "\(endpoint)/"])
                    let text = try HostTools.run("/usr/bin/curl", ["-s", "-f", "\(endpoint)/metrics"]).output
                    let samples = PrometheusText(text)

                    #expect(samples.value("snaplab_snapshots_total", ["kind": "full", "outcome": "completed"]) == 1)
                    #expect(samples.value("snaplab_snapshot_duration_seconds_count", ["kind": "full"]) == 1)
                    #expect(try #require(samples.value("snaplab_snapshot_duration_seconds_sum", ["kind": "full"])) > 0)
                    let read = try #require(samples.value("snaplab_snapshot_bytes_total", ["stage": "read"]))
                    let stored = try #require(samples.value("snaplab_snapshot_bytes_total", ["stage": "stored"]))
                    #expect(read >= Double(4 << 20) && stored > 0, "the 4 MiB of random data were read and stored")
                    #expect(samples.value("snaplab_snapshot_bytes_total", ["stage": "new"]) != nil)
                    #expect(try #require(samples.value("snaplab_dedup_ratio", [:])) >= 1)
                    #expect(try #require(samples.value("snaplab_compression_ratio", [:])) > 0)
                    #expect(samples.value("snaplab_snapshots", ["state": "completed"]) == 1)
                    #expect(try #require(samples.value("snaplab_store_snapshot_bytes", [:])) == stored)
                    #expect(samples.value("snaplab_restores_total", ["kind": "eager", "outcome": "available"]) == 1)
                    #expect(samples.value("snaplab_restore_duration_seconds_count", ["kind": "eager"]) == 1)
                    #expect(samples.value("snaplab_launches_total", ["kind": "volume", "outcome": "running"]) == 1)
                    #expect(samples.value("snaplab_launch_duration_seconds_count", ["kind": "volume"]) == 1)
                    #expect(
                        samples.value("snaplab_policy_runs_total", ["policy": policy.id, "outcome": "succeeded"]) == 1)
                    #expect(samples.value("snaplab_drills_total", ["policy": policy.id, "outcome": "passed"]) == 0)
                    #expect(samples.value("snaplab_drills_total", ["policy": policy.id, "outcome": "failed"]) == 0)
                    let age = try #require(
                        samples.value("snaplab_seconds_since_last_snapshot", ["policy": "hourly", "volume": data.id]))
                    #expect(age >= 0 && age < 600)
                    #expect(samples.value("snaplab_instances", ["state": "running"]) == 1)
                    #expect(samples.value("snaplab_host_up", ["host": "local"]) == 1)
                    // The helper asked /api/volumes until the server answered.
                    #expect(
                        try #require(
                            samples.value(
                                "snaplab_api_requests_total", ["action": "GET /api/volumes", "status": "200"])
                        ) >= 1)
                    #expect(
                        samples.value("snaplab_api_requests_total", ["action": "DescribeVolumes", "status": "200"]) == 1
                    )
                    #expect(samples.value("snaplab_api_requests_total", ["action": "unknown", "status": "400"]) == 1)
                    #expect(
                        samples.value("snaplab_api_request_duration_seconds_count", ["action": "DescribeVolumes"]) == 1)
                    #expect(!text.contains("MakeMeASeries"), "a client's made-up action is no label")
                    #expect(text.contains("# HELP snaplab_seconds_since_last_snapshot"))
                }
                try await lab.volumes.delete(restored.id)
            }
        }
    }
}

/// The samples of a Prometheus text exposition, looked up by name and a subset of labels (summed when several
/// series match).
struct PrometheusText {
    let samples: [(name: String, labels: [String: String], value: Double)]

    init(_ text: String) {
        var samples: [(String, [String: String], Double)] = []
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else {
                continue
            }
            let series = line[..<space]
            var labels: [String: String] = [:]
            var name = String(series)
            if let open = series.firstIndex(of: "{"), let close = series.lastIndex(of: "}") {
                name = String(series[..<open])
                for pair in series[series.index(after: open)..<close].split(separator: ",") {
                    let parts = pair.split(separator: "=", maxSplits: 1)
                    if parts.count == 2 { labels[String(parts[0])] = parts[1].trimmingCharacters(in: ["\""]) }
                }
            }
            samples.append((name, labels, value))
        }
        self.samples = samples
    }

    func value(_ name: String, _ labels: [String: String]) -> Double? {
        let matching = samples.filter { sample in
            sample.name == name && labels.allSatisfy { sample.labels[$0.key] == $0.value }
        }
        return matching.isEmpty ? nil : matching.reduce(0) { $0 + $1.value }
    }
}
