import Foundation
import SnaplabCore
import Testing

/// The controller's volume operations against libvirt's test driver.
@Suite struct LabVolumeTests {
    let lab: Lab
    let directory: URL

    init() async throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("lab-\(UUID().uuidString)")
        lab = try Lab(paths: LabPaths(stateDirectory: directory))
        _ = try await lab.hosts.initialize(
            uri: "test:///default",
            poolName: "unit-\(UUID().uuidString.prefix(8).lowercased())",
            poolPath: directory.appendingPathComponent("pool").path)
    }

    @Test func createListDelete() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        let volume = try await lab.volumes.create(role: .data, size: 64 << 20, tags: ["backup": "hourly"])
        #expect(volume.state == .available)
        #expect(volume.size == 64 << 20)
        #expect(volume.path.hasSuffix("\(volume.id).qcow2"))
        #expect(try await lab.volumes.list().map(\.id) == [volume.id])
        try await lab.volumes.delete(volume.id)
        await #expect { _ = try await lab.volumes.get(volume.id) } throws: { ($0 as? SnaplabError)?.code == .notFound }
    }

    @Test func tooSmallVolumeIsRefusedAndNothingIsRecorded() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect { _ = try await lab.volumes.create(role: .data, size: 4096) } throws: {
            ($0 as? SnaplabError)?.code == .invalidArgument
        }
        #expect(try await lab.volumes.list().isEmpty)
    }

    @Test func deletingAnUnknownVolumeIsNotFound() async throws {
        defer { try? FileManager.default.removeItem(at: directory) }
        await #expect { try await lab.volumes.delete("vol-0000000000000000a") } throws: {
            ($0 as? SnaplabError)?.code == .notFound
        }
    }
}
