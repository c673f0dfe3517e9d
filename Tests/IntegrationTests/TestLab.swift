import Foundation
import Libvirt
import SnaplabCore
import Testing

/// A lab of its own for one test: a temp state directory, a uniquely named storage pool on the real
/// `qemu:///system`, and clean-up of exactly what the test created (its instances' domains, its volumes,
/// its pool), whether the test passed or not.
struct TestLab {
    static let uri = ProcessInfo.processInfo.environment["SNAPLAB_TEST_URI"] ?? "qemu:///system"
    let lab: Lab
    let directory: URL
    let poolName: String

    static func make() async throws -> TestLab {
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let directory = URL(fileURLWithPath: "/tmp/snaplab-test-\(suffix)")
        let lab = try Lab(paths: LabPaths(stateDirectory: directory, imageCache: ImageFixture.cache))
        let poolName = "snaplab-test-\(suffix)"
        _ = try await lab.hosts.initialize(uri: uri, poolName: poolName, poolPath: nil)
        return TestLab(lab: lab, directory: directory, poolName: poolName)
    }

    /// Runs `body` with a fresh lab and always cleans up after it.
    static func with(_ body: (TestLab) async throws -> Void) async throws {
        let testLab = try await make()
        do {
            try await body(testLab)
        } catch {
            await testLab.cleanUp()
            throw error
        }
        await testLab.cleanUp()
    }

    func cleanUp() async {
        // A lazy launch or restore started the lab's export service (a detached process): it goes first.
        if let pid = ExportService.runningProcess(lab.paths) { kill(pid, SIGKILL) }
        for instance in (try? await lab.catalog.instances()) ?? [] where instance.state != .terminated {
            _ = try? await lab.instances.terminate(instance.id, deleteDataVolumes: true)
        }
        for volume in (try? await lab.catalog.volumes()) ?? [] {
            try? await lab.volumes.delete(volume.id)
        }
        // Whatever the controller could not remove, remove through libvirt directly (only our own names), on
        // every host the test added.
        for host in (try? await lab.catalog.hosts()) ?? [] where host.name != lab.defaultHostName {
            if let connection = try? Connection(uri: host.uri) {
                for instance in (try? await lab.catalog.instances()) ?? [] {
                    if let domain = try? connection.findDomain(name: instance.id) {
                        try? domain.destroy()
                        try? domain.undefine()
                    }
                }
                if let pool = try? connection.findStoragePool(name: host.poolName) {
                    for volume in (try? pool.allVolumes()) ?? [] { try? volume.delete() }
                    try? pool.stop()
                    try? pool.undefine()
                }
            }
        }
        if let connection = try? Connection(uri: Self.uri) {
            for instance in (try? await lab.catalog.instances()) ?? [] {
                if let domain = try? connection.findDomain(name: instance.id) {
                    try? domain.destroy()
                    try? domain.undefine()
                }
            }
            if let pool = try? connection.findStoragePool(name: poolName) {
                for volume in (try? pool.allVolumes()) ?? [] { try? volume.delete() }
                try? pool.stop()
                try? pool.undefine()
            }
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// A boot volume with the tiny OS.
    func bootVolume() async throws -> Volume {
        try await lab.volumes.createBoot(from: try await ImageFixture.shared.build())
    }

    /// Runs a shell command in the guest and returns its stdout; fails the test on a non-zero exit.
    func shell(_ instance: String, _ script: String) async throws -> String {
        let result = try await lab.instances.exec(instance, ["/bin/sh", "-c", script], timeout: .seconds(180))
        #expect(result.exitCode == 0, "`\(script)` exited \(result.exitCode): \(result.stderr)")
        return result.stdout
    }
}

/// The tiny guest image, built once per test run (and cached across runs).
actor ImageFixture {
    static let shared = ImageFixture()
    static let cache = URL(
        fileURLWithPath: ProcessInfo.processInfo.environment["SNAPLAB_IMAGE_CACHE"]
            ?? "/tmp/snaplab-test-image-cache")
    static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    private var built: ImageBuild?

    func build() async throws -> ImageBuild {
        if let built { return built }
        let recipe = try ImageRecipe(directory: Self.repositoryRoot.appendingPathComponent("images/tiny"))
        let build = try await recipe.build(ImageRecipe.Parameters(), cache: Self.cache)
        built = build
        return build
    }
}
