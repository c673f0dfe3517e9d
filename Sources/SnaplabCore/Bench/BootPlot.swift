import Foundation

/// The boot sweep as an SVG chart: one panel per fsck mode; phase durations against boot-disk size (log
/// scale, medians joined by lines) or, for a sweep of filesystem variants at one size, against the variant
/// (medians not joined); min–max whiskers across repeats; one colour per phase, one dash pattern per fill
/// level. A sweep of several sizes and several variants pools the variants at each size.
public enum BootPlot {
    static let plotted = ["total to ready", "to kernel", "userspace", "kernel+initramfs", "fsck"]
    static let colours = ["#1f77b4", "#2ca02c", "#9467bd", "#d62728", "#ff7f0e"]
    static let dashes = ["", "6,4", "2,3", "10,3,2,3"]

    /// A point on the x axis: its label, where it sits (0...1 across the panel) and the boots it stands for.
    struct Category {
        var label: String
        var position: Double
        var matches: (BootRecord) -> Bool
    }

    /// Boot-disk sizes on a log scale; or, when one size was swept with several variants, the variants.
    static func categories(_ records: [BootRecord]) -> (axis: String, byVariant: Bool, [Category]) {
        let sizes = Array(Set(records.map(\.bootSize))).sorted()
        var variants: [String] = []
        for record in records where !variants.contains(record.variant) { variants.append(record.variant) }
        if sizes.count == 1, variants.count > 1 {
            let axis = "filesystem variant (\(ByteSize.format(sizes[0])) boot disk)"
            return (
                axis, true,
                variants.enumerated().map { index, variant in
                    Category(
                        label: variant, position: (Double(index) + 0.5) / Double(variants.count),
                        matches: { $0.variant == variant })
                }
            )
        }
        guard sizes.count > 1, let first = sizes.first, let last = sizes.last else {
            return (
                "boot disk size", false,
                sizes.map { size in
                    Category(label: ByteSize.format(size), position: 0.5, matches: { $0.bootSize == size })
                }
            )
        }
        let span = log2(Double(last)) - log2(Double(first))
        return (
            "boot disk size (log scale)", false,
            sizes.map { size in
                Category(
                    label: ByteSize.format(size),
                    position: 0.05 + (log2(Double(size)) - log2(Double(first))) / span * 0.9,
                    matches: { $0.bootSize == size })
            }
        )
    }

    public static func svg(_ records: [BootRecord], title: String = "Where the boot time goes") -> String {
        // A lazy first launch boots from the store: a different thing from the sweep's boots (the table has it).
        let ok = records.filter { $0.error == nil && $0.lazyFirstLaunch != true }
        let modes = FsckMode.allCases.filter { mode in ok.contains { $0.fsck == mode } }
        let (axis, byVariant, categories) = categories(ok)
        let fills = Array(Set(ok.map(\.fillLabel))).sorted { ($0 == "empty" ? "" : $0) < ($1 == "empty" ? "" : $1) }
        let measures = BootReport.measures.filter { plotted.contains($0.0) }
        let panelWidth = max(360, 80 * Double(categories.count))
        let panelHeight = 300.0
        let left = 70.0
        let top = 60.0
        let gap = 75.0
        let labelDepth = byVariant ? 50.0 : 0
        // Wide enough for the legend's row of phases even with a single panel.
        let width = max(
            left + Double(max(1, modes.count)) * (panelWidth + gap) + 20, left + 170 * Double(measures.count) + 20)
        let height = top + panelHeight + labelDepth + 150

        var yMax = 1.0
        for record in ok { for (_, measure) in measures { yMax = max(yMax, measure(record) ?? 0) } }
        yMax = niceCeiling(yMax * 1.05)
        let yTicks = stride(from: 0.0, through: yMax, by: niceStep(yMax)).map { $0 }

        func x(_ category: Category, _ panel: Int) -> Double {
            left + Double(panel) * (panelWidth + gap) + category.position * panelWidth
        }
        func y(_ seconds: Double) -> Double { top + panelHeight - seconds / yMax * panelHeight }

        var svg = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(Int(width / 2))" y="24" text-anchor="middle" font-size="16" font-weight="bold">\(XMLText.escape(title))</text>

            """
        for (panel, mode) in modes.enumerated() {
            let origin = left + Double(panel) * (panelWidth + gap)
            svg +=
                "<text x=\"\(Int(origin + panelWidth / 2))\" y=\"\(Int(top - 12))\" text-anchor=\"middle\" font-weight=\"bold\">fsck: \(mode.rawValue)</text>\n"
            svg +=
                "<rect x=\"\(origin)\" y=\"\(top)\" width=\"\(panelWidth)\" height=\"\(panelHeight)\" fill=\"none\" stroke=\"#444\"/>\n"
            for tick in yTicks {
                svg +=
                    "<line x1=\"\(origin)\" y1=\"\(y(tick))\" x2=\"\(origin + panelWidth)\" y2=\"\(y(tick))\" stroke=\"#ddd\"/>\n"
                svg += "<text x=\"\(origin - 6)\" y=\"\(y(tick) + 4)\" text-anchor=\"end\">\(format(tick))</text>\n"
            }
            for category in categories {
                svg +=
                    "<line x1=\"\(x(category, panel))\" y1=\"\(top + panelHeight)\" x2=\"\(x(category, panel))\" y2=\"\(top + panelHeight + 5)\" stroke=\"#444\"/>\n"
                // Variant names are long: slanted, ending under their tick.
                let placement =
                    byVariant
                    ? "text-anchor=\"end\" transform=\"rotate(-25 \(x(category, panel)) \(top + panelHeight + 18))\""
                    : "text-anchor=\"middle\""
                svg +=
                    "<text x=\"\(x(category, panel))\" y=\"\(top + panelHeight + 18)\" \(placement)>\(XMLText.escape(category.label))</text>\n"
            }
            svg +=
                "<text x=\"\(Int(origin + panelWidth / 2))\" y=\"\(Int(top + panelHeight + labelDepth + 38))\" text-anchor=\"middle\">\(XMLText.escape(axis))</text>\n"
            svg +=
                "<text transform=\"translate(\(Int(origin - 45)),\(Int(top + panelHeight / 2))) rotate(-90)\" text-anchor=\"middle\">seconds</text>\n"
            for (measureIndex, (name, measure)) in measures.enumerated() {
                let colour = colours[measureIndex % colours.count]
                for (fillIndex, fill) in fills.enumerated() {
                    var points: [(Double, BootReport.Statistic)] = []
                    for category in categories {
                        let values = ok.filter { $0.fsck == mode && $0.fillLabel == fill && category.matches($0) }
                            .compactMap(measure)
                        if let stat = BootReport.statistic(values) { points.append((x(category, panel), stat)) }
                    }
                    guard !points.isEmpty else { continue }
                    let dash = dashes[fillIndex % dashes.count]
                    let path = points.map { "\($0.0),\(y($0.1.median))" }.joined(separator: " ")
                    // Variants are categories, not a scale: their medians are not joined.
                    if !byVariant {
                        let style = dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\""
                        svg +=
                            "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"2\"\(style)>"
                            + "<title>\(XMLText.escape("\(name), \(fill)"))</title></polyline>\n"
                    }
                    for (px, stat) in points {
                        svg +=
                            "<line x1=\"\(px)\" y1=\"\(y(stat.min))\" x2=\"\(px)\" y2=\"\(y(stat.max))\" stroke=\"\(colour)\"/>\n"
                        svg +=
                            "<line x1=\"\(px - 4)\" y1=\"\(y(stat.min))\" x2=\"\(px + 4)\" y2=\"\(y(stat.min))\" stroke=\"\(colour)\"/>\n"
                        svg +=
                            "<line x1=\"\(px - 4)\" y1=\"\(y(stat.max))\" x2=\"\(px + 4)\" y2=\"\(y(stat.max))\" stroke=\"\(colour)\"/>\n"
                        svg += "<circle cx=\"\(px)\" cy=\"\(y(stat.median))\" r=\"3\" fill=\"\(colour)\"/>\n"
                    }
                }
            }
        }
        // Legend: colours are phases, dash patterns are fill levels.
        var legendX = left
        let legendY = top + panelHeight + labelDepth + 70
        for (index, (name, _)) in measures.enumerated() {
            svg +=
                "<line x1=\"\(legendX)\" y1=\"\(legendY)\" x2=\"\(legendX + 24)\" y2=\"\(legendY)\" stroke=\"\(colours[index % colours.count])\" stroke-width=\"3\"/>\n"
            svg += "<text x=\"\(legendX + 30)\" y=\"\(legendY + 4)\">\(XMLText.escape(name)) (s)</text>\n"
            legendX += 170
        }
        legendX = left
        for (index, fill) in fills.enumerated() {
            let dash = dashes[index % dashes.count]
            svg +=
                "<line x1=\"\(legendX)\" y1=\"\(legendY + 24)\" x2=\"\(legendX + 24)\" y2=\"\(legendY + 24)\" stroke=\"#333\" stroke-width=\"2\"\(dash.isEmpty ? "" : " stroke-dasharray=\"\(dash)\"")/>\n"
            svg += "<text x=\"\(legendX + 30)\" y=\"\(legendY + 28)\">disk \(XMLText.escape(fill))</text>\n"
            legendX += 220
        }
        svg +=
            "<text x=\"\(left)\" y=\"\(legendY + 56)\" fill=\"#555\">points: median across repeats; whiskers: min–max; \(ok.count) boots</text>\n"
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

extension BootPlot {
    static let rsvgConvert = "/usr/bin/rsvg-convert"

    /// Renders the SVG as a PNG with librsvg's `rsvg-convert` (Debian `librsvg2-bin`); returns whether it did
    /// (false when the tool is not installed or fails).
    public static func renderPNG(svg: URL, to png: URL) async -> Bool {
        guard FileManager.default.isExecutableFile(atPath: rsvgConvert) else { return false }
        return (try? await ChildProcess.output(rsvgConvert, ["-o", png.path, svg.path])) != nil
    }
}
