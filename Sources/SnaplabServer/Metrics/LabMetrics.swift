import CoreMetrics
import Foundation
import Prometheus
import SnaplabCore

/// What `GET /metrics` reports, in Prometheus' text format. Counters and histograms of finished operations come
/// from the catalog's measurements (written by triggers, whichever process did the work), fed once each into the
/// registry; gauges are read from the catalog at each scrape; API requests are counted by this server through
/// swift-metrics.
actor LabMetrics {
    nonisolated let registry: PrometheusCollectorRegistry
    nonisolated let factory: PrometheusMetricsFactory
    private let lab: Lab
    private var seen: Int64 = 0
    private var bytes: (changed: Double, new: Double, stored: Double) = (0, 0, 0)
    /// The gauges set by the last scrape, by name and labels: the ones not set again are dropped.
    private var gauges: [String: Prometheus.Gauge] = [:]

    init(lab: Lab) {
        self.lab = lab
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = Self.requestBuckets
        self.registry = registry
        self.factory = factory
    }

    static let requestBuckets: [Duration] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map {
        .milliseconds(Int64($0 * 1000))
    }
    static let operationBuckets: [Duration] = [0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800, 3600].map {
        .milliseconds(Int64($0 * 1000))
    }

    /// One API request, by action (`RunInstances`, `GET /api/snapshots`, …) and HTTP status.
    nonisolated func requestFinished(action: String, status: Int, duration: Duration) {
        CoreMetrics.Counter(
            label: "snaplab_api_requests_total", dimensions: [("action", action), ("status", String(status))],
            factory: factory
        ).increment()
        CoreMetrics.Timer(
            label: "snaplab_api_request_duration_seconds", dimensions: [("action", action)], factory: factory
        )
        .recordNanoseconds(duration.nanoseconds)
    }

    /// Brings the registry up to date and renders it.
    func scrape() async throws(SnaplabError) -> [UInt8] {
        try await absorbMeasurements()
        // Series an alert reads exist from the start, at zero (a rate over a series that is absent is no alert).
        for policy in try await lab.policies.list() {
            for outcome in ["passed", "failed"] {
                counter("snaplab_drills_total", [("policy", policy.id), ("outcome", outcome)], Self.drillsHelp)
                    .increment(by: Int64(0))
            }
            for outcome in ["succeeded", "failed"] {
                counter("snaplab_policy_runs_total", [("policy", policy.id), ("outcome", outcome)], Self.runsHelp)
                    .increment(by: Int64(0))
            }
        }
        try await setGauges()
        return registry.emitToBuffer()
    }

    private func absorbMeasurements() async throws(SnaplabError) {
        while true {
            let batch = try await lab.catalog.measurements(after: seen)
            for measurement in batch { absorb(measurement) }
            guard let last = batch.last else { return }
            seen = last.seq
        }
    }

    private func absorb(_ measurement: CatalogMeasurement) {
        let kind = measurement.kind
        let outcome = measurement.outcome
        switch measurement.operation {
        case "snapshot":
            counter("snaplab_snapshots_total", [("kind", kind), ("outcome", outcome)], "Snapshots that ended")
                .increment()
            guard outcome == "completed" else { return }
            record("snaplab_snapshot_duration_seconds", [("kind", kind)], measurement, "Snapshot start to completion")
            let stages: [(String, Int64?)] = [
                ("read", measurement.bytesRead), ("changed", measurement.bytesChanged),
                ("new", measurement.bytesNew), ("stored", measurement.bytesStored),
            ]
            for (stage, value) in stages {
                guard let value else { continue }
                counter(
                    "snaplab_snapshot_bytes_total", [("kind", kind), ("stage", stage)],
                    "Bytes of completed snapshots: read from the volume, changed since the parent, new to the store (after dedup), stored (compressed)"
                ).increment(by: value)
            }
            // Older rows have no `new` figure: the ratios count only snapshots that have all three.
            if let changed = measurement.bytesChanged, let new = measurement.bytesNew,
                let stored = measurement.bytesStored
            {
                bytes = (bytes.changed + Double(changed), bytes.new + Double(new), bytes.stored + Double(stored))
            }
        case "restore":
            counter("snaplab_restores_total", [("kind", kind), ("outcome", outcome)], "Restores that ended")
                .increment()
            if outcome == "available" {
                record("snaplab_restore_duration_seconds", [("kind", kind)], measurement, "Restore until usable")
            }
        case "launch":
            counter("snaplab_launches_total", [("kind", kind), ("outcome", outcome)], "First launches that ended")
                .increment()
            if outcome == "running" {
                record("snaplab_launch_duration_seconds", [("kind", kind)], measurement, "Launch request to running")
            }
        case "policy-run":
            counter(
                "snaplab_policy_runs_total", [("policy", measurement.subject), ("outcome", outcome)], Self.runsHelp
            )
            .increment()
        case "drill":
            counter("snaplab_drills_total", [("policy", measurement.subject), ("outcome", outcome)], Self.drillsHelp)
                .increment()
        default:
            return
        }
    }

    private func setGauges() async throws(SnaplabError) {
        var fresh: [String: Prometheus.Gauge] = [:]
        func set(_ name: String, _ labels: [(String, String)], _ value: Double, _ help: String) {
            let gauge = registry.makeGauge(
                descriptor: Self.descriptor(name, help), labels: labels)
            gauge.set(value)
            fresh[name + labels.map { "\($0.0)=\($0.1)" }.joined(separator: ",")] = gauge
        }
        let totals = try await lab.catalog.snapshotTotals()
        for state in SnapshotState.allCases {
            set(
                "snaplab_snapshots", [("state", state.rawValue)], Double(totals.byState[state.rawValue] ?? 0),
                "Snapshots in the catalog, by state")
        }
        set(
            "snaplab_store_snapshot_bytes", [], Double(totals.storedBytes),
            "Bytes the completed snapshots in the catalog added to the store when written")
        if bytes.new > 0 {
            set(
                "snaplab_dedup_ratio", [], bytes.changed / bytes.new,
                "Changed bytes handed to the store / bytes new to it, over measured snapshots")
        }
        if bytes.stored > 0 {
            set(
                "snaplab_compression_ratio", [], bytes.new / bytes.stored,
                "Bytes new to the store / bytes stored (compressed), over measured snapshots")
        }
        try await setProtectionGauges(totals, set: set)
        let instances = try await lab.catalog.instances()
        for instanceState in InstanceState.allCases where instanceState != .terminated {
            let count = instances.filter { $0.state == instanceState }.count
            set("snaplab_instances", [("state", instanceState.rawValue)], Double(count), "Instances, by state")
        }
        for summary in try await lab.hosts.summaries() {
            set(
                "snaplab_host_up", [("host", summary.host.name)], summary.problem == nil ? 1 : 0,
                "1 when the host's libvirt answered this scrape")
        }
        for (key, gauge) in gauges where fresh[key] == nil { registry.unregisterGauge(gauge) }
        gauges = fresh
    }

    /// Per enabled policy and target volume: seconds since its newest completed snapshot was taken (or, never
    /// snapshotted, since it became a target: the policy's or the volume's creation, the later).
    private func setProtectionGauges(
        _ totals: SnapshotTotals, set: (String, [(String, String)], Double, String) -> Void
    ) async throws(SnaplabError) {
        let now = Date()
        let volumes = try await lab.catalog.volumes()
        for policy in try await lab.policies.list() where policy.enabled {
            let targets = try await lab.policies.targets(of: policy)
            let instanceIds = Set(targets.instances.map(\.id))
            let targetVolumes =
                targets.volumes + volumes.filter { $0.instanceId.map(instanceIds.contains) ?? false }
            for volume in targetVolumes {
                let since = totals.latestCompleted[volume.id] ?? max(policy.createdAt, volume.createdAt)
                set(
                    "snaplab_seconds_since_last_snapshot", [("policy", policy.name), ("volume", volume.id)],
                    now.timeIntervalSince(since),
                    "Seconds since the newest completed snapshot of a policy's target volume")
            }
        }
    }

    static let runsHelp = "Policy runs that ended, by outcome"
    static let drillsHelp = "Restore drills, passed or failed"

    /// The name as given (units are part of it), with its help text.
    static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    private func counter(_ name: String, _ labels: [(String, String)], _ help: String) -> Prometheus.Counter {
        registry.makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
    }

    private func record(_ name: String, _ labels: [(String, String)], _ measurement: CatalogMeasurement, _ help: String)
    {
        guard let seconds = measurement.seconds, seconds >= 0 else { return }
        registry.makeDurationHistogram(
            descriptor: Self.descriptor(name, help), labels: labels,
            buckets: Self.operationBuckets
        ).recordNanoseconds(Int64(seconds * 1e9))
    }
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000_000_000 + attoseconds / 1_000_000_000
    }
}
