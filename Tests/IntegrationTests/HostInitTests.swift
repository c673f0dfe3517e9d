import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    @Suite struct HostInitTests {
        /// After the state directory (and so the pool's directory) is removed, `host init` makes the pool usable
        /// again instead of failing with libvirt's "cannot open directory".
        @Test func hostInitRecreatesAPoolDirectoryThatWasRemoved() async throws {
            try await TestLab.with { testLab in
                let pool = testLab.directory.appendingPathComponent("pool")
                try FileManager.default.removeItem(at: testLab.directory)
                #expect(!FileManager.default.fileExists(atPath: pool.path))

                let lab = try Lab(paths: testLab.lab.paths)
                _ = try await lab.hosts.initialize(uri: TestLab.uri, poolName: testLab.poolName, poolPath: nil)
                #expect(FileManager.default.fileExists(atPath: pool.path))
                let volume = try await lab.volumes.create(role: .data, size: 16 << 20)
                #expect(FileManager.default.fileExists(atPath: volume.path))
                try await lab.volumes.delete(volume.id)
            }
        }
    }
}
