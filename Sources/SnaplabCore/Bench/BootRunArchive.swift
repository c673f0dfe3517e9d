import Foundation

/// The lab keeps each boot sweep's records (the `boot.json` the CLI writes) under `boot-runs/NAME.json`, NAME
/// being when the sweep ended, so the control screen can list the runs and plot any of them.
public enum BootRunArchive {
    public struct Run: Codable, Sendable, Equatable {
        public var name: String
        public var boots: Int
        public var failed: Int
        public var sizes: [UInt64]
        public var modes: [String]
    }

    /// Saves a sweep's records; returns the run's name.
    @discardableResult
    public static func save(_ records: [BootRecord], in paths: LabPaths, at date: Date = Date())
        throws(SnaplabError) -> String
    {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        var name = formatter.string(from: date)
        do {
            try FileManager.default.createDirectory(at: paths.bootRuns, withIntermediateDirectories: true)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let data = try encoder.encode(records)
            var suffix = 1
            while FileManager.default.fileExists(atPath: file(name, paths).path) {
                suffix += 1
                name = formatter.string(from: date) + "-\(suffix)"
            }
            try data.write(to: file(name, paths), options: .atomic)
        } catch {
            throw SnaplabError(.io, "could not keep the boot run in \(paths.bootRuns.path): \(error)")
        }
        return name
    }

    /// The kept runs, newest first.
    public static func list(in paths: LabPaths) throws(SnaplabError) -> [Run] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: paths.bootRuns.path)
                .filter { $0.hasSuffix(".json") }.map { String($0.dropLast(5)) }.filter(isValidName)
        } catch CocoaError.fileReadNoSuchFile {
            return []
        } catch {
            throw SnaplabError(.io, "could not list \(paths.bootRuns.path): \(error)")
        }
        return try names.sorted(by: >).map { name throws(SnaplabError) in
            let records = try records(of: name, in: paths)
            return Run(
                name: name, boots: records.count, failed: records.filter { $0.error != nil }.count,
                sizes: Set(records.map(\.bootSize)).sorted(), modes: Set(records.map(\.fsck.rawValue)).sorted())
        }
    }

    public static func records(of name: String, in paths: LabPaths) throws(SnaplabError) -> [BootRecord] {
        guard isValidName(name) else {
            throw SnaplabError(.invalidArgument, "'\(name)' is not a boot run name (like 20261204T071500Z)")
        }
        let data: Data
        do {
            data = try Data(contentsOf: file(name, paths))
        } catch {
            throw SnaplabError(.notFound, "no boot run named \(name); the list shows the runs this lab kept")
        }
        do {
            return try JSONDecoder().decode([BootRecord].self, from: data)
        } catch {
            throw SnaplabError(.store, "boot run \(name) is not a boot.json written by `snaplab bench boot`: \(error)")
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 40
            && name.unicodeScalars.allSatisfy { CharacterSet(charactersIn: "0123456789TZ-").contains($0) }
    }

    private static func file(_ name: String, _ paths: LabPaths) -> URL {
        paths.bootRuns.appendingPathComponent("\(name).json")
    }
}
