import Foundation

/// `systemd-analyze`'s one-line summary: "Startup finished in 1.2s (firmware) + 800ms (loader) + 3.8s (kernel)
/// + 29.7s (userspace) = 35.5s". Firmware and loader appear only when the boot loader reports them (systemd-boot).
enum SystemdAnalyze {
    /// The parts by name, in seconds; nil when the line is not there (boot not finished, no systemd).
    static func parse(_ output: String) -> [String: Double]? {
        guard
            let line = output.split(whereSeparator: \.isNewline).first(where: { $0.hasPrefix("Startup finished in ") })
        else { return nil }
        let body = line.dropFirst("Startup finished in ".count).split(separator: "=").first ?? ""
        var parts: [String: Double] = [:]
        for term in body.split(separator: "+") {
            let words = term.split(separator: " ")
            guard let name = words.last, name.hasPrefix("("), name.hasSuffix(")"),
                let seconds = duration(words.dropLast().joined(separator: " "))
            else { return nil }
            parts[String(name.dropFirst().dropLast())] = seconds
        }
        return parts.isEmpty ? nil : parts
    }

    /// systemd's durations: "1min 2.345s", "29.747s", "945ms", "120us".
    static func duration(_ text: String) -> Double? {
        var total = 0.0
        var any = false
        for word in text.split(separator: " ") {
            let units: [(String, Double)] = [("min", 60), ("ms", 0.001), ("us", 0.000_001), ("h", 3600), ("s", 1)]
            guard let (suffix, scale) = units.first(where: { word.hasSuffix($0.0) }),
                let value = Double(word.dropLast(suffix.count))
            else { return nil }
            total += value * scale
            any = true
        }
        return any ? total : nil
    }
}
