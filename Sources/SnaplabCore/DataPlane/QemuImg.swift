import Foundation

/// Persistent dirty bitmaps in a qcow2 file that no qemu process has open (a stopped volume).
enum QemuImg {
    static let executable = "/usr/bin/qemu-img"

    struct Bitmap: Decodable {
        var name: String
        var flags: [String]
        /// `in-use` marks a bitmap left by a qemu that did not close the image cleanly: it cannot be trusted.
        var isConsistent: Bool { !flags.contains("in-use") }
    }

    private struct Info: Decodable {
        struct FormatSpecific: Decodable {
            struct DataPart: Decodable { var bitmaps: [Bitmap]? }
            var data: DataPart?
        }
        var formatSpecific: FormatSpecific?

        enum CodingKeys: String, CodingKey {
            case formatSpecific = "format-specific"
        }
    }

    static func bitmaps(of file: String) async throws(SnaplabError) -> [Bitmap] {
        let data = try await run(["info", "--output=json", "-f", "qcow2", file], "reading bitmaps of \(file)")
        do {
            return try JSONDecoder().decode(Info.self, from: data).formatSpecific?.data?.bitmaps ?? []
        } catch {
            throw SnaplabError(.io, "qemu-img info of \(file) did not parse", cause: error)
        }
    }

    static func addBitmap(_ name: String, to file: String) async throws(SnaplabError) {
        _ = try await run(
            ["bitmap", "--add", "--enable", "-f", "qcow2", file, name],
            "adding bitmap \(name) to \(file)")
    }

    static func removeBitmap(_ name: String, from file: String) async throws(SnaplabError) {
        _ = try await run(["bitmap", "--remove", "-f", "qcow2", file, name], "removing bitmap \(name) from \(file)")
    }

    /// A qcow2 overlay whose backing file is a raw block export (`nbd+unix://…`): qemu reads what the overlay
    /// lacks from the export. libvirt's storage API refuses network backing files, so qemu-img makes it.
    static func createOverlay(at file: String, size: UInt64, onExport uri: String) async throws(SnaplabError) {
        _ = try await run(
            ["create", "-q", "-f", "qcow2", "-o", "compat=1.1", "-b", uri, "-F", "raw", file, "\(size)"],
            "creating an overlay on \(uri)")
    }

    /// An empty qcow2 file of `size` bytes (compat 1.1, as the pool's volumes).
    static func create(at file: String, size: UInt64) async throws(SnaplabError) {
        _ = try await run(["create", "-q", "-f", "qcow2", "-o", "compat=1.1", file, "\(size)"], "creating \(file)")
    }

    /// Points a stopped overlay at another backing file without copying anything: only right when the new
    /// backing file holds exactly what the old one served.
    static func rebaseUnsafe(_ file: String, onto backing: String) async throws(SnaplabError) {
        _ = try await run(
            ["rebase", "-u", "-f", "qcow2", "-b", backing, "-F", "qcow2", file], "rebasing \(file) onto \(backing)")
    }

    /// The backing file name recorded in a qcow2 header, or nil.
    static func backingFile(of file: String) async throws(SnaplabError) -> String? {
        struct Header: Decodable {
            var backingFilename: String?
            enum CodingKeys: String, CodingKey { case backingFilename = "backing-filename" }
        }
        let data = try await run(["info", "--output=json", "-U", "-f", "qcow2", file], "reading \(file)")
        return try? JSONDecoder().decode(Header.self, from: data).backingFilename
    }

    private static func run(_ arguments: [String], _ what: String) async throws(SnaplabError) -> Data {
        do {
            return try await ChildProcess.output(executable, arguments)
        } catch let failure as ChildProcess.Failure {
            let detail = failure.logTail.trimmingCharacters(in: .whitespacesAndNewlines)
            let hint = detail.contains("lock") ? "; is the volume in use by a running instance?" : ""
            throw SnaplabError(.io, "\(what) failed: \(detail)\(hint)")
        } catch {
            throw SnaplabError(.io, "\(what) failed: cannot run \(executable)", cause: error)
        }
    }
}
