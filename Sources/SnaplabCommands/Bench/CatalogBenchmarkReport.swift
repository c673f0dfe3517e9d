import Foundation
import SnaplabCore

/// `bench catalog`'s table: each call's median per size, how it grew from 10 000 to 100 000 snapshots, and
/// whether it met the targets.
struct CatalogBenchmarkReport {
    let result: CatalogBenchmark.Result

    func print() {
        let sizes = result.sizes
        let header = ["CALL"] + sizes.map { "N=\($0)" } + ["10k→100k", "TARGET", "MET"]
        let rows = result.calls.map { call -> [String] in
            var row = [call.name]
            for (seconds, bytes) in zip(call.seconds, call.bytes) {
                guard let seconds else {
                    row.append("—")
                    continue
                }
                let size = bytes.map { $0 > 4096 ? " (\(ByteSize.format(UInt64($0))))" : "" } ?? ""
                row.append(Self.duration(seconds) + size)
            }
            let growth = self.growth(call)
            row.append(growth.map { String(format: "×%.1f", $0) } ?? "—")
            var targets: [String] = []
            var met: [String] = []
            if let target = call.targetSeconds {
                targets.append("≤ \(Self.duration(target)) at 10k")
                if let seconds = value(call, at: 10_000) { met.append(seconds <= target ? "yes" : "NO") }
            }
            if let limit = call.growthLimit {
                targets.append("≤ ×\(Int(limit))")
                if let growth { met.append(growth <= limit ? "yes" : "NO") }
            }
            row.append(targets.joined(separator: ", "))
            row.append(met.joined(separator: ", "))
            return row
        }
        Printer.table(header, rows)
    }

    private func value(_ call: CatalogBenchmark.Call, at size: Int) -> Double? {
        result.sizes.firstIndex(of: size).flatMap { call.seconds[$0] }
    }

    private func growth(_ call: CatalogBenchmark.Call) -> Double? {
        guard let small = value(call, at: 10_000), let large = value(call, at: 100_000), small > 0 else { return nil }
        return large / small
    }

    static func duration(_ seconds: Double) -> String {
        seconds < 1 ? String(format: "%.1f ms", seconds * 1000) : String(format: "%.2f s", seconds)
    }
}
