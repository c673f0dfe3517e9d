import Crypto
import Foundation

/// A guest image recipe: a directory with an executable `build.sh OUT_DIR` that writes `vmlinuz`,
/// `initrd.img`, `boot.qcow2` and `build.json` into OUT_DIR. Builds are cached by the recipe's content and
/// parameters, so building again with nothing changed is instant.
public struct ImageRecipe: Sendable {
    public struct Parameters: Sendable, Equatable, Codable {
        /// Size of the boot volume (and its ext4 filesystem), in bytes.
        public var bootSize: UInt64
        /// Extra mke2fs options for the boot filesystem.
        public var mkfsOptions: String
        /// Fill the boot filesystem to about this percentage with 64 MiB random files.
        public var fillPercent: Int
        /// And this many small files (one block each).
        public var smallFiles: Int
        /// Debian packages installed besides the recipe's own (recipes that install packages honour it).
        public var extraPackages: [String]

        public init(
            bootSize: UInt64 = 256 << 20, mkfsOptions: String = "", fillPercent: Int = 0, smallFiles: Int = 0,
            extraPackages: [String] = []
        ) {
            self.bootSize = bootSize
            self.mkfsOptions = mkfsOptions
            self.fillPercent = fillPercent
            self.smallFiles = smallFiles
            self.extraPackages = extraPackages
        }
    }

    public let directory: URL

    public init(directory: URL) throws(SnaplabError) {
        let script = directory.appendingPathComponent("build.sh")
        guard FileManager.default.isExecutableFile(atPath: script.path) else {
            throw SnaplabError(
                .invalidArgument,
                "\(directory.path) is not an image recipe: it has no executable build.sh")
        }
        self.directory = directory.standardizedFileURL
    }

    /// The cache key: SHA-256 over every recipe file (path and bytes) and the parameters.
    public func cacheKey(_ parameters: Parameters) throws(SnaplabError) -> String {
        var hasher = SHA256()
        let base = directory.path
        let enumerator = FileManager.default.enumerator(atPath: base)
        var files: [String] = []
        while let relative = enumerator?.nextObject() as? String { files.append(relative) }
        for relative in files.sorted() {
            let full = directory.appendingPathComponent(relative)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: full.path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { continue }
            guard let data = FileManager.default.contents(atPath: full.path) else {
                throw SnaplabError(.io, "cannot read recipe file \(full.path)")
            }
            hasher.update(data: Data("\(relative)\0\(data.count)\0".utf8))
            hasher.update(data: data)
        }
        hasher.update(data: Data("size=\(parameters.bootSize)\0mkfs=\(parameters.mkfsOptions)".utf8))
        if parameters.fillPercent > 0 || parameters.smallFiles > 0 {
            hasher.update(data: Data("\0fill=\(parameters.fillPercent)\0small=\(parameters.smallFiles)".utf8))
        }
        if !parameters.extraPackages.isEmpty {
            hasher.update(data: Data("\0packages=\(parameters.extraPackages.joined(separator: ","))".utf8))
        }
        return hasher.finalize().map { String(format: "%02x", $0) }.joined().prefix(24).description
    }

    /// Builds (or finds in `cache`) the image for `parameters`.
    public func build(_ parameters: Parameters, cache: URL) async throws(SnaplabError) -> ImageBuild {
        let key = try cacheKey(parameters)
        let target = cache.appendingPathComponent(directory.lastPathComponent + "-" + key)
        if let cached = try? ImageBuild(directory: target) { return cached }
        try Directories.create(cache)
        let staging = cache.appendingPathComponent(".building-\(key)-\(UUID().uuidString.prefix(8))")
        try Directories.create(staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        let log = cache.appendingPathComponent(".build-\(key).log")
        let environment = [
            "SNAPLAB_BOOT_SIZE": "\(parameters.bootSize / 1024)K",
            "SNAPLAB_MKFS_OPTIONS": parameters.mkfsOptions,
            "SNAPLAB_DEB_CACHE": cache.appendingPathComponent("debs").path,
            "SNAPLAB_FILL_PERCENT": "\(parameters.fillPercent)",
            "SNAPLAB_FILL_SMALL": "\(parameters.smallFiles)",
            "SNAPLAB_EXTRA_PACKAGES": parameters.extraPackages.joined(separator: ","),
        ]
        do {
            try await ChildProcess.run(
                "/bin/sh", [directory.appendingPathComponent("build.sh").path, staging.path],
                environment: environment, log: log)
        } catch let failure as ChildProcess.Failure {
            throw SnaplabError(
                .io,
                "building image \(directory.path) failed (exit \(failure.status)); log \(log.path):\n\(failure.logTail)"
            )
        } catch {
            throw SnaplabError(.io, "cannot run \(directory.path)/build.sh", cause: error)
        }
        // Publish atomically; if a concurrent build got there first, use its result.
        do {
            try FileManager.default.moveItem(at: staging, to: target)
        } catch {
            guard FileManager.default.fileExists(atPath: target.path) else {
                throw SnaplabError(
                    .io, "cannot move the image build into \(target.path)",
                    cause: error)
            }
        }
        try? FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: target.path)
        return try ImageBuild(directory: target)
    }
}

/// A finished recipe build on disk.
public struct ImageBuild: Sendable, Equatable {
    public let directory: URL
    public let kernelVersion: String
    public let cmdline: String
    /// How the disk boots by itself (`build.json`'s `firmware`; direct when it says nothing).
    public let firmware: Firmware

    public var kernel: URL { directory.appendingPathComponent("vmlinuz") }
    public var initrd: URL { directory.appendingPathComponent("initrd.img") }
    public var bootImage: URL { directory.appendingPathComponent("boot.qcow2") }

    private struct Metadata: Decodable {
        var kernel: String
        var cmdline: String
        var firmware: Firmware?
    }

    /// Opens a build directory; fails unless every artifact is there.
    public init(directory: URL) throws(SnaplabError) {
        self.directory = directory
        let metadataURL = directory.appendingPathComponent("build.json")
        guard let data = FileManager.default.contents(atPath: metadataURL.path),
            let metadata = try? JSONDecoder().decode(Metadata.self, from: data)
        else {
            throw SnaplabError(.notFound, "no finished image build in \(directory.path)")
        }
        kernelVersion = metadata.kernel
        cmdline = metadata.cmdline
        firmware = metadata.firmware ?? .direct
        for artifact in [kernel, initrd, bootImage] where !FileManager.default.fileExists(atPath: artifact.path) {
            throw SnaplabError(.notFound, "image build \(directory.path) lacks \(artifact.lastPathComponent)")
        }
    }
}
