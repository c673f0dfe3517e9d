import Foundation

/// Parses and prints sizes: `512`, `64K`, `256M`, `1G`, `1.5GiB`, `2T` (powers of 1024, as qemu-img and
/// libvirt use them).
public enum ByteSize {
    private static let units: [(suffixes: [String], multiplier: UInt64)] = [
        (["", "B"], 1),
        (["K", "KB", "KIB"], 1 << 10),
        (["M", "MB", "MIB"], 1 << 20),
        (["G", "GB", "GIB"], 1 << 30),
        (["T", "TB", "TIB"], 1 << 40),
    ]

    public static func parse(_ text: String) throws(SnaplabError) -> UInt64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let numberPart = trimmed.prefix { $0.isNumber || $0 == "." }
        let suffix = trimmed.dropFirst(numberPart.count).trimmingCharacters(in: .whitespaces).uppercased()
        guard let number = Double(numberPart), number > 0,
            let unit = units.first(where: { $0.suffixes.contains(suffix) })
        else {
            throw SnaplabError(
                .invalidArgument,
                "'\(text)' is not a size; use a positive number with K, M, G or T (e.g. 256M, 1G)")
        }
        let bytes = number * Double(unit.multiplier)
        guard bytes >= 1, bytes < Double(UInt64(1) << 60) else {
            throw SnaplabError(.invalidArgument, "'\(text)' is out of range; sizes go from 1 byte to 1 EiB")
        }
        return UInt64(bytes.rounded(.up))
    }

    /// A short human form: `256 MiB`, `1.5 GiB`.
    public static func format(_ bytes: UInt64) -> String {
        let names = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1024, index < names.count - 1 {
            value /= 1024
            index += 1
        }
        if index == 0 || value == value.rounded() { return "\(Int(value)) \(names[index])" }
        return "\((value * 10).rounded() / 10) \(names[index])"
    }
}
