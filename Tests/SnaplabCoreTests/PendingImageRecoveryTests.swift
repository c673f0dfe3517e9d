import Foundation
import SnaplabCore
import Testing

/// An image whose creating process ended (a `CreateImage` in flight at a restart) is settled when the lab is
/// next opened, once its snapshots are.
@Suite struct PendingImageRecoveryTests {
    @Test func aPendingImageWhoseSnapshotFailedBecomesFailedOnOpen() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("lab-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = LabPaths(stateDirectory: directory)
        let lab = try Lab(paths: paths)
        try await lab.catalog.save(Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p"))
        let volumeId = "vol-0123456789abcdef0"
        try await lab.catalog.insert(
            Volume(
                id: volumeId, host: "local", role: .boot, size: 1 << 20, state: .available,
                poolVolume: "\(volumeId).qcow2", path: "/p/\(volumeId).qcow2"))
        var snapshot = Snapshot(
            id: "snap-0123456789abcdef0", volumeId: volumeId, volumeRole: .boot,
            volumeSize: 1 << 20, state: .error)
        snapshot.errorMessage = "interrupted"
        try await lab.catalog.insert(snapshot)
        let image = MachineImage(
            id: "ami-0123456789abcdef0", name: "left", description: nil, state: .pending,
            bootSnapshotId: snapshot.id, kernelDigest: "k", initrdDigest: "i", cmdline: "c", memoryMiB: 128,
            vcpus: 1, blockDeviceMappings: [], sourceInstanceId: nil, tags: [:])
        try await lab.catalog.insert(image)

        let reopened = try await Lab.open(paths: paths)
        let settled = try await reopened.images.get(image.id)
        #expect(settled.state == .failed)
        #expect(settled.stateReason?.contains(snapshot.id) == true)
        #expect(try await reopened.catalog.images(using: snapshot.id).isEmpty, "it no longer pins its snapshot")
    }
}
