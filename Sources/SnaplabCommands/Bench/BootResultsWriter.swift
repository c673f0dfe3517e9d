import Foundation
import SnaplabCore

/// Writes a boot sweep's results into a directory: boot.csv, boot.json, boot.svg and, when librsvg's
/// `rsvg-convert` is installed, boot.png; then prints the table of medians.
enum BootResultsWriter {
    static func write(_ records: [BootRecord], to path: String) async throws {
        let directory = URL(fileURLWithPath: path)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try BootReport.csv(records).write(
            to: directory.appendingPathComponent("boot.csv"), atomically: true, encoding: .utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(records).write(to: directory.appendingPathComponent("boot.json"))
        let svg = directory.appendingPathComponent("boot.svg")
        try BootPlot.svg(records).write(to: svg, atomically: true, encoding: .utf8)
        let png = directory.appendingPathComponent("boot.png")
        try? FileManager.default.removeItem(at: png)
        let rendered = await BootPlot.renderPNG(svg: svg, to: png)
        let (header, rows) = BootReport.table(records)
        Printer.table(header, rows)
        let pngNote = rendered ? ", boot.png" : ""
        print("\nwrote \(directory.path)/boot.csv, boot.json, boot.svg\(pngNote)")
        let smallFiles = Set(records.filter { $0.fillPercent > 0 }.map(\.smallFiles)).sorted().map(String.init)
        print(
            "medians in seconds (min–max across repeats where they differ); fill: 64 MiB files to the percentage"
                + (smallFiles.isEmpty ? "" : ", plus \(smallFiles.joined(separator: "/")) small files"))
    }
}
