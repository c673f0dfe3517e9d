import Foundation

/// restic and borg, run as their users run them, on the raw image of the benchmark volume: restic with its
/// defaults (it always encrypts), borg unencrypted with lz4, with its default content-defined chunking and with
/// fixed 64 KiB chunks (`--sparse`, the closest to the lab's own chunking).
struct PeerTool: Sendable {
    enum Kind: String, Sendable, Codable, CaseIterable {
        case restic = "restic"
        case borg = "borg lz4"
        case borgFixed = "borg lz4 fixed 64K"

        var executable: String { self == .restic ? "/usr/bin/restic" : "/usr/bin/borg" }
    }

    let kind: Kind
    /// Holds the repository, the tool's cache and its log.
    let directory: URL
    /// The raw image it backs up (a file in `source`).
    let source: URL

    static func installed(_ kind: Kind) -> Bool {
        FileManager.default.isExecutableFile(atPath: kind.executable)
    }

    var repository: URL { directory.appendingPathComponent("repository") }

    func initialize() async throws(SnaplabError) {
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        switch kind {
        case .restic: try await run(["init"])
        case .borg, .borgFixed: try await run(["init", "--encryption=none"])
        }
    }

    /// Backs up the raw image as `name` (a full backup first, then one per change).
    func backup(_ name: String) async throws(SnaplabError) {
        let file = source.lastPathComponent
        switch kind {
        case .restic:
            try await run(
                ["backup", "--quiet", "--host", "bench", "--tag", name, file],
                in: source.deletingLastPathComponent())
        case .borg:
            try await run(
                ["create", "--compression", "lz4", "::\(name)", file], in: source.deletingLastPathComponent())
        case .borgFixed:
            try await run(
                [
                    "create", "--compression", "lz4", "--chunker-params", "fixed,65536", "--sparse",
                    "::\(name)", file,
                ], in: source.deletingLastPathComponent())
        }
    }

    /// Restores backup `name` into `target` (an empty directory); returns the restored image.
    func restore(_ name: String, into target: URL) async throws(SnaplabError) -> URL {
        try? FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        switch kind {
        case .restic:
            try await run(["restore", "latest", "--tag", name, "--target", target.path, "--quiet"])
            // restic recreates the path the file was backed up from under the target.
            let walker = FileManager.default.enumerator(at: target, includingPropertiesForKeys: nil)
            while let url = walker?.nextObject() as? URL {
                if url.lastPathComponent == source.lastPathComponent { return url }
            }
            throw SnaplabError(.io, "restic restore left no \(source.lastPathComponent) under \(target.path)")
        case .borg, .borgFixed:
            try await run(["extract", "--sparse", "::\(name)"], in: target)
            return target.appendingPathComponent(source.lastPathComponent)
        }
    }

    var storedBytes: UInt64 { BenchSystem.directoryBytes(repository) }

    private func run(_ arguments: [String], in directory: URL? = nil) async throws(SnaplabError) {
        var environment: [String: String]
        switch kind {
        case .restic:
            environment = [
                "RESTIC_REPOSITORY": repository.path, "RESTIC_PASSWORD": "snaplab-bench",
                "RESTIC_CACHE_DIR": self.directory.appendingPathComponent("cache").path,
            ]
        case .borg, .borgFixed:
            environment = [
                "BORG_REPO": repository.path, "BORG_BASE_DIR": self.directory.appendingPathComponent("base").path,
                "BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK": "yes", "BORG_RELOCATED_REPO_ACCESS_IS_OK": "yes",
            ]
        }
        do {
            try await ChildProcess.run(
                kind.executable, arguments, environment: environment, currentDirectory: directory,
                log: self.directory.appendingPathComponent("log.txt"))
        } catch let failure as ChildProcess.Failure {
            throw SnaplabError(.io, "\(kind.rawValue) \(arguments.first ?? "") failed: \(failure.logTail)")
        } catch {
            throw SnaplabError(.io, "cannot run \(kind.executable)", cause: error)
        }
    }
}
