import Foundation

/// A disk image a user hands the lab (`image import`): checked before anything opens it for real. A qcow2 can
/// name a backing file or an external data file anywhere on the host, and qemu would read it as the guest's
/// disk; a `json:` file name is a whole block-driver specification; and a crafted header can make `qemu-img`
/// itself allocate without bound. So: the format is always named (`-f`), never probed; `qemu-img` runs under
/// `prlimit` (memory and CPU); and backing files, data files and `json:` names are refused.
struct UntrustedDiskImage: Sendable {
    enum Format: String, Sendable, CaseIterable {
        case qcow2
        case raw
    }

    static let memoryLimit = 1 << 30
    /// `convert` runs a pool of I/O threads, each with an 8 MiB stack reserved: 1 GiB of address space failed
    /// now and then here ("qemu_thread_create: Resource temporarily unavailable").
    static let convertMemoryLimit = 2 << 30
    static let cpuSeconds = 60

    let file: URL
    let format: Format

    private struct Info: Decodable {
        struct FormatSpecific: Decodable {
            struct DataPart: Decodable {
                var dataFile: String?
                enum CodingKeys: String, CodingKey { case dataFile = "data-file" }
            }
            var data: DataPart?
        }
        var format: String
        var virtualSize: UInt64
        var backingFilename: String?
        var formatSpecific: FormatSpecific?

        enum CodingKeys: String, CodingKey {
            case format
            case virtualSize = "virtual-size"
            case backingFilename = "backing-filename"
            case formatSpecific = "format-specific"
        }
    }

    /// The image's virtual size once every check passed; the error says what was refused and why.
    func inspect() async throws(SnaplabError) -> UInt64 {
        let path = file.path
        // However it reaches here (a relative name made absolute), a `json:` name is refused outright.
        guard !path.contains("json:") else {
            throw SnaplabError(.invalidArgument, "'\(path)' is a json: block specification, not a file; give a file")
        }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else {
            throw SnaplabError(.notFound, "no file at \(path)")
        }
        let output = try await Self.limited(
            ["info", "--output=json", "-f", format.rawValue, path], "inspecting \(path)")
        let info: Info
        do {
            info = try JSONDecoder().decode(Info.self, from: output)
        } catch {
            throw SnaplabError(.invalidArgument, "qemu-img info of \(path) did not parse", cause: error)
        }
        guard info.format == format.rawValue else {
            throw SnaplabError(.invalidArgument, "\(path) reads as \(info.format), not \(format.rawValue)")
        }
        if let backing = info.backingFilename {
            throw SnaplabError(
                .invalidArgument,
                "\(path) names a backing file (\(backing)); an imported image must be self-contained: `qemu-img convert` it into one file first"
            )
        }
        if let dataFile = info.formatSpecific?.data?.dataFile {
            throw SnaplabError(
                .invalidArgument,
                "\(path) keeps its data in an external file (\(dataFile)); an imported image must be self-contained: `qemu-img convert` it into one file first"
            )
        }
        if format == .qcow2 {
            _ = try await Self.limited(["check", "-q", "-f", "qcow2", path], "checking \(path)")
        }
        guard info.virtualSize > 0 else { throw SnaplabError(.invalidArgument, "\(path) is an empty disk") }
        return info.virtualSize
    }

    /// Writes the checked image as a fresh qcow2 (compat 1.1, so it can hold dirty bitmaps) at `target`.
    func convert(to target: URL) async throws(SnaplabError) {
        _ = try await Self.limited(
            ["convert", "-q", "-f", format.rawValue, "-O", "qcow2", "-o", "compat=1.1", file.path, target.path],
            "converting \(file.path)", memory: Self.convertMemoryLimit, cpu: false)
    }

    private static func limited(
        _ arguments: [String], _ what: String, memory: Int = memoryLimit, cpu: Bool = true
    ) async throws(SnaplabError) -> Data {
        var limits = ["--as=\(memory)"]
        if cpu { limits.append("--cpu=\(cpuSeconds)") }
        // One malloc arena: each extra thread's arena would reserve 64 MiB of the limited address space.
        let command = limits + ["--", "/usr/bin/env", "MALLOC_ARENA_MAX=1", QemuImg.executable] + arguments
        do {
            return try await ChildProcess.output("/usr/bin/prlimit", command)
        } catch let failure as ChildProcess.Failure {
            let detail = failure.logTail.trimmingCharacters(in: .whitespacesAndNewlines)
            throw SnaplabError(
                .invalidArgument, "\(what) failed: \(detail.isEmpty ? "status \(failure.status)" : detail)")
        } catch {
            throw SnaplabError(.io, "\(what) failed: cannot run prlimit/qemu-img", cause: error)
        }
    }
}
