import Foundation

/// The boot sweep as an SVG chart: one panel per fsck mode; phase durations against boot-disk size (log
/// scale), median points joined by lines, min–max whiskers across repeats; one colour per phase, one dash
/// pattern per fill level.
public enum BootPlot {
    static let plotted = ["total to ready", "userspace", "kernel+initramfs", "fsck"]
    static let colours = ["#1f77b4", "#2ca02c", "#9467bd", "#d62728"]
    static let dashes = ["", "6,4", "2,3", "10,3,2,3"]

    public static func svg(_ records: [BootRecord], title: String = "Where the boot time goes") -> String {
        let ok = records.filter { $0.error == nil }
        let modes = FsckMode.allCases.filter { mode in ok.contains { $0.fsck == mode } }
        let sizes = Array(Set(ok.map(\.bootSize))).sorted()
        let fills = Array(Set(ok.map(\.fillLabel))).sorted { ($0 == "empty" ? "" : $0) < ($1 == "empty" ? "" : $1) }
        let measures = BootReport.measures.filter { plotted.contains($0.0) }
        let panelWidth = 360.0, panelHeight = 300.0, left = 70.0, top = 60.0, gap = 75.0
        let width = left + Double(max(1, modes.count)) * (panelWidth + gap) + 20
        let height = top + panelHeight + 150

        var yMax = 1.0
        for record in ok { for (_, measure) in measures { yMax = max(yMax, measure(record) ?? 0) } }
        yMax = niceCeiling(yMax * 1.05)
        let yTicks = stride(from: 0.0, through: yMax, by: niceStep(yMax)).map { $0 }

        func x(_ size: UInt64, _ panel: Int) -> Double {
            let origin = left + Double(panel) * (panelWidth + gap)
            guard sizes.count > 1, let first = sizes.first, let last = sizes.last else { return origin + panelWidth / 2 }
            let span = log2(Double(last)) - log2(Double(first))
            return origin + 20 + (log2(Double(size)) - log2(Double(first))) / span * (panelWidth - 40)
        }
        func y(_ seconds: Double) -> Double { top + panelHeight - seconds / yMax * panelHeight }

        var svg = """
        <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
        <rect width="100%" height="100%" fill="white"/>
        <text x="\(Int(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(XMLText.escape(title))</text>

        """
        for (panel, mode) in modes.enumerated() {
            let origin = left + Double(panel) * (panelWidth + gap)
            svg += "<text x=\"\(Int(origin + panelWidth / 2))\" y=\"\(Int(top - 12))\" text-anchor=\"middle\" font-weight=\"bold\">fsck: \(mode.rawValue)</text>\n"
            svg += "<rect x=\"\(origin)\" y=\"\(top)\" width=\"\(panelWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#444\"/>\n"
            for tick in yTicks {
                svg += "<line x1=\"\(origin)\" y1=\"\(y(tick))\" x2=\"\(origin + panelWidth)\" y2=\"\(y(tick))\" stroke=\"#ddd\"/>\n"
                svg += "<text x=\"\(origin - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(format(tick))</text>\n"
            }
            for size in sizes {
                svg += "<line x1=\"\(x(size, panel))\" y1=\"\(top + panelHeight)\" x2=\"\(x(size, panel))\" y2=\"\(top + panelHeight + 5)\" stroke=\"#444\"/>\n"
                svg += "<text x=\"\(x(size, panel))\" y=\"\(top + panelHeight + 18)\" text-anchor=\"middle\">\(ByteSize.format(size))</text>\n"
            }
            svg += "<text x=\"\(Int(origin + panelWidth / 2))\" y=\"\(Int(top + panelHeight + 38))\" text-anchor=\"middle\">boot disk size (log scale)</text>\n"
            svg += "<text transform=\"translate(\(Int(origin - 45)),\(Int(top + panelHeight / 2))) rotate(-90)\" text-anchor=\"middle\">seconds</text>\n"
            for (measureIndex, (name, measure)) in measures.enumerated() {
                let colour = colours[measureIndex % colours.count]
                for (fillIndex, fill) in fills.enumerated() {
                    var points: [(Double, BootReport.Statistic)] = []
                    for size in sizes {
                        let values = ok.filter { $0.fsck == mode && $0.bootSize == size && $0.fillLabel == fill }.compactMap(measure)
                        if let stat = BootReport.statistic(values) { points.append((x(size, panel), stat)) }
                    }
                    guard !points.isEmpty else { continue }
                    let dash = dashes[fillIndex % dashes.count]
                    let path = points.map { "\($0.0),\(y($0.1.median))" }.joined(separator: " ")
                    svg += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")><title>\(XMLText.escape("\(name), \(fill)"))</title></polyline>\n"
                    for (px, stat) in points {
                        svg += "<line x1=\"\(px)\" y1=\"\(y(stat.min))\" x2=\"\(px)\" y2=\"\(y(stat.max))\" stroke=\"\(colour)\"/>\n"
                        svg += "<line x1=\"\(px - 4)\" y1=\"\(y(stat.min))\" x2=\"\(px + 4)\" y2=\"\(y(stat.min))\" stroke=\"\(colour)\"/>\n"
                        svg += "<line x1=\"\(px - 4)\" y1=\"\(y(stat.max))\" x2=\"\(px + 4)\" y2=\"\(y(stat.max))\" stroke=\"\(colour)\"/>\n"
                        svg += "<circle cx=\"\(px)\" cy=\"\(y(stat.median))\" r=\"3\" fill=\"\(colour)\"/>\n"
                    }
                }
            }
        }
        // Legend: colours are phases, dash patterns are fill levels.
        var legendX = left
        let legendY = top + panelHeight + 70
        for (index, (name, _)) in measures.enumerated() {
            svg += "<line x1=\"\(legendX)\" y1=\"\(legendY)\" x2=\"\(legendX + 24)\" y2=\"\(legendY)\" stroke=\"\(colours[index % colours.count])\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(legendX + 30)\" y=\"\(legendY + 4)\">\(XMLText.escape(name)) (s)</text>\n"
            legendX += 170
        }
        legendX = left
        for (index, fill) in fills.enumerated() {
            let dash = dashes[index % dashes.count]
            svg += "<line x1=\"\(legendX)\" y1=\"\(legendY + 24)\" x2=\"\(legendX + 24)\" y2=\"\(legendY + 24)\" stroke=\"#333\" stroke-width=\"2\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")/>\n"
            svg += "<text x=\"\(legendX + 30)\" y=\"\(legendY + 28)\">disk \(XMLText.escape(fill))</text>\n"
            legendX += 220
        }
        svg += "<text x=\"\(left)\" y=\"\(legendY + 56)\" fill=\"#555\">points: median across repeats; whiskers: min–max; \(ok.count) boots</text>\n"
        svg += "</svg>\n"
        return svg
    }

    static func niceStep(_ maximum: Double) -> Double {
        let rough = maximum / 6
        let magnitude = pow(10, floor(log10(rough)))
        for step in [1.0, 2, 2.5, 5, 10] where rough <= step * magnitude { return step * magnitude }
        return 10 * magnitude
    }

    static func niceCeiling(_ value: Double) -> Double {
        let step = niceStep(value)
        return (value / step).rounded(.up) * step
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
