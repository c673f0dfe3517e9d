import Foundation

/// The boot sweep's results as CSV, summary rows and statistics.
public enum BootReport {
    /// One row per boot, one column per phase (seconds since the launch call; empty when the phase did not
    /// happen, e.g. fsck when skipped).
    public static func csv(_ records: [BootRecord]) -> String {
        let header =
            ["boot_size_bytes", "fill_percent", "small_files", "variant", "fsck", "repeat", "allocated_bytes"]
            + BootRecord.phaseOrder.map { $0.replacingOccurrences(of: "-", with: "_") } + ["fsck_status", "error"]
            + ["boot", "hydration_seconds"] + systemdParts.map { "systemd_\($0)" }
        var lines = [header.joined(separator: ",")]
        for record in records {
            let phases = BootRecord.phaseOrder.map { phase in
                record.phases[phase].map { String(format: "%.3f", $0) } ?? ""
            }
            let fields =
                [
                    "\(record.bootSize)", "\(record.fillPercent)", "\(record.smallFiles)", record.variant,
                    record.fsck.rawValue, "\(record.repeatIndex)", "\(record.allocatedBytes)",
                ]
                + phases + [record.fsckStatus.map(String.init) ?? "", quoted(record.error ?? "")]
                + [record.firmwareLabel, record.hydrationSeconds.map { String(format: "%.3f", $0) } ?? ""]
                + systemdParts.map { part in record.systemd?[part].map { String(format: "%.3f", $0) } ?? "" }
            lines.append(fields.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The parts of `systemd-analyze`'s summary the CSV has a column for.
    static let systemdParts = ["firmware", "loader", "kernel", "initrd", "userspace"]

    private static func quoted(_ text: String) -> String {
        text.isEmpty
            ? ""
            : "\"" + text.replacingOccurrences(of: "\"", with: "\"\"").replacingOccurrences(of: "\n", with: " ") + "\""
    }

    /// The measures the summary and the plot show, as (name, how to compute it from a boot).
    public static let measures: [(String, @Sendable (BootRecord) -> Double?)] = [
        ("start call", { $0.span("defined", "start-returned") }),
        ("to kernel", { $0.span("start-returned", "kernel-start") }),
        ("kernel+initramfs", { $0.span("kernel-start", "initramfs") }),
        ("modules", { r in r.span("initramfs", "fsck-start") ?? r.span("initramfs", "root-mounted") }),
        ("fsck", { $0.span("fsck-start", "fsck-end") }),
        ("mount root", { r in r.span("fsck-end", "root-mounted") ?? 0 }),
        ("userspace", { $0.span("root-mounted", "ready") }),
        ("total to ready", { $0.phases["ready"] }),
        ("shutdown", { $0.span("shutdown-requested", "stopped") }),
        // From a never-launched image to ready: the lazy launch itself, or the base's hydration and a boot.
        (
            "first launch",
            { r in
                r.lazyFirstLaunch == true
                    ? r.phases["ready"]
                    : r.hydrationSeconds.flatMap { hydration in r.phases["ready"].map { hydration + $0 } }
            }
        ),
        ("systemd kernel", { $0.systemd?["kernel"] }),
        ("systemd userspace", { $0.systemd?["userspace"] }),
    ]

    public struct Statistic: Sendable, Codable {
        public var min: Double
        public var median: Double
        public var max: Double
    }

    public static func statistic(_ values: [Double]) -> Statistic? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted()
        let middle = sorted.count / 2
        let median = sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        return Statistic(min: sorted[0], median: median, max: sorted[sorted.count - 1])
    }

    /// Groups boots by configuration (variant, size, fill, fsck mode).
    public static func groups(_ records: [BootRecord]) -> [(key: String, records: [BootRecord])] {
        var order: [String] = []
        var grouped: [String: [BootRecord]] = [:]
        for record in records where record.error == nil {
            let key =
                "\(record.variant)|\(record.firmwareLabel)|\(record.bootSize)|\(record.fillLabel)|\(record.fsck.rawValue)"
            if grouped[key] == nil { order.append(key) }
            grouped[key, default: []].append(record)
        }
        return order.map { ($0, grouped[$0] ?? []) }
    }

    /// One summary row per configuration: the median of each measure (min–max when they differ by > 10 %).
    public static func table(_ records: [BootRecord]) -> (header: [String], rows: [[String]]) {
        let header =
            ["VARIANT", "BOOT", "DISK", "FILL", "FSCK"] + measures.map { $0.0.uppercased() } + ["BOOTS"]
        var rows: [[String]] = []
        for (_, group) in groups(records) {
            guard let first = group.first else { continue }
            var row = [
                first.variant, first.firmwareLabel, ByteSize.format(first.bootSize), first.fillLabel,
                first.fsck.rawValue,
            ]
            for (_, measure) in measures {
                guard let stat = statistic(group.compactMap(measure)) else {
                    row.append("-")
                    continue
                }
                let spread = stat.max - stat.min > stat.median * 0.1 && stat.max - stat.min > 0.05
                row.append(
                    spread
                        ? String(format: "%.2f (%.2f–%.2f)", stat.median, stat.min, stat.max)
                        : String(format: "%.2f", stat.median))
            }
            row.append("\(group.count)")
            rows.append(row)
        }
        let failed = records.filter { $0.error != nil }.count
        if failed > 0 { rows.append(["\(failed) boots failed"] + Array(repeating: "", count: header.count - 1)) }
        return (header, rows)
    }
}
