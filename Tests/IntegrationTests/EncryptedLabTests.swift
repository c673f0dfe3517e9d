import Foundation
import SnaplabCore
import SnaplabTestSupport
import SnapshotStore
import Testing

/// A lab whose store is encrypted, on a directory and on Ceph's gateway: snapshots and images round-trip, a
/// catalog rebuilt from the store (with the key) has them all, and without the key nothing opens.
@Suite struct EncryptedLabTests {
    enum Where: String, CaseIterable, Sendable { case directory, ceph }

    @Test(arguments: Where.allCases)
    func snapshotsImagesAndARebuiltCatalogRoundTrip(_ place: Where) async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            if place == .ceph {
                let gateway = try await CephGateway.shared.start()
                RealGuestTests.ScaleOutTests.useCredentials(gateway.environment)
                try await lab.store.setURL(RealGuestTests.ScaleOutTests.bucketURL(gateway.endpoint))
            }
            let key = testLab.directory.appendingPathComponent("store.key")
            try StoreKeySource.generateKeyFile(at: key)
            try await lab.store.encrypt(with: .keyFile(key))
            #expect(try await lab.store.open().isEncrypted)
            #expect(try await lab.store.wrappedKeys().map(\.kind) == [.keyFile])

            let data = try await lab.volumes.create(role: .data, size: 16 << 20)
            try HostTools.fillRandom(data.path, mebibytes: 3)
            let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
            #expect(snapshot.state == .completed, "\(snapshot.errorMessage ?? "")")
            let boot = try await testLab.bootVolume()
            let bootSnapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: boot.id).id)
            let image = try await lab.images.register(
                ImageRegistration(name: "sealed", bootSnapshotId: bootSnapshot.id))
            #expect(try await lab.store.verify().isClean)

            // A catalog rebuilt from the store, elsewhere, with the key: the snapshots and the image.
            let rebuilt = try Lab(paths: LabPaths(stateDirectory: testLab.directory.appendingPathComponent("rebuilt")))
            try await rebuilt.store.setURL(try await lab.store.url())
            await #expect(throws: SnaplabError.self, "no key: the store does not open") {
                _ = try await rebuilt.store.rebuildCatalog()
            }
            try await rebuilt.catalog.setSetting("store-key-file", key.path)
            _ = try await rebuilt.store.rebuildCatalog()
            #expect(Set(try await rebuilt.snapshots.list().map(\.id)) == [snapshot.id, bootSnapshot.id])
            #expect(try await rebuilt.images.list().map(\.id) == [image.id])

            let restored = try await lab.snapshots.restore(snapshot.id)
            try HostTools.run("/usr/bin/qemu-img", ["compare", "-q", data.path, restored.path])
            if place == .directory { try Self.keyCommands(testLab.directory) }
        }
    }

    /// The export service opens an encrypted store unattended from SNAPLAB_STORE_KEY_FILE alone (no key recorded
    /// in the catalog) and serves its snapshots as they were.
    @Test func theExportServiceOpensTheStoreFromTheKeyFileInItsEnvironment() async throws {
        try await TestLab.with { testLab in
            let lab = testLab.lab
            let key = testLab.directory.appendingPathComponent("store.key")
            try StoreKeySource.generateKeyFile(at: key)
            try await lab.store.encrypt(with: .keyFile(key))
            let data = try await lab.volumes.create(role: .data, size: 16 << 20)
            try HostTools.fillRandom(data.path, mebibytes: 4)
            let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
            try await lab.catalog.setSetting("store-key-file", "")

            let (service, printed) = try ExportServiceTests.startService(
                testLab.directory, environment: ["SNAPLAB_STORE_KEY_FILE": key.path])
            defer { if service.isRunning { service.terminate() } }
            #expect(printed.contains(ExportService.socketPath(lab.paths)))
            try HostTools.run(
                "/usr/bin/qemu-img",
                [
                    "compare", "-f", "qcow2", "-F", "raw", data.path,
                    ExportService.uri(snapshot: snapshot.id, paths: lab.paths),
                ])
        }
    }

    /// `store key …` through the CLI, and what a wrong key file says.
    static func keyCommands(_ state: URL) throws {
        let run = { (arguments: [String], environment: [String: String]) in
            try CommandLineTests.runBinary(arguments, stateDirectory: state, environment: environment)
        }
        let second = state.appendingPathComponent("second.key")
        #expect(try run(["store", "key", "generate", second.path], [:]).status == 0)
        let again = try run(["store", "key", "generate", second.path], [:])
        #expect(
            again.status != 0 && again.stderr.contains("cannot create key file"), "never overwrites: \(again.stderr)")
        let added = try run(["store", "key", "add", "--new-key-file", second.path, "--note", "second"], [:])
        #expect(added.status == 0 && added.stdout.hasPrefix("key-"), "\(added.stderr)")
        let listed = try run(["store", "key", "list"], [:])
        #expect(listed.stdout.contains("second") && listed.stdout.split(separator: "\n").count == 3, "\(listed.stdout)")
        // The second key alone opens it; a key file of another store does not.
        let bySecond = try run(["store", "verify"], ["SNAPLAB_STORE_KEY_FILE": second.path])
        #expect(bySecond.status == 0, "\(bySecond.stderr)")
        let stranger = state.appendingPathComponent("stranger.key")
        try StoreKeySource.generateKeyFile(at: stranger)
        let wrong = try run(["store", "verify"], ["SNAPLAB_STORE_KEY_FILE": stranger.path])
        #expect(wrong.status != 0 && wrong.stderr.contains("wrong key"), "\(wrong.stderr)")
        // Into a new store under another key (re-encoded), and refused without one.
        let elsewhere = state.appendingPathComponent("copy")
        let noKey = try run(["store", "copy", "--to", "dir://\(elsewhere.path)", "--encrypt"], [:])
        #expect(noKey.status != 0 && noKey.stderr.contains("--key-file"), "\(noKey.stderr)")
        let copied = try run(
            ["store", "copy", "--to", "dir://\(elsewhere.path)", "--encrypt", "--key-file", stranger.path], [:])
        #expect(copied.status == 0 && copied.stdout.contains("copied 2 snapshots"), "\(copied.stdout)\(copied.stderr)")
    }
}
