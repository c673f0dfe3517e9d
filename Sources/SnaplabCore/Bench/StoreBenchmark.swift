import Foundation
import SnapshotStore

/// `snaplab bench store`: the same volume snapshotted into a directory store and an S3 store, in one run.
public struct StoreBenchmark: Sendable {
    public struct Result: Sendable, Codable {
        public var allocatedBytes: UInt64
        public var directorySeconds: Double
        public var s3Seconds: Double
        public var directoryMBps: Double { Double(allocatedBytes) / directorySeconds / 1e6 }
        public var s3MBps: Double { Double(allocatedBytes) / s3Seconds / 1e6 }
        public var s3VersusDirectory: Double { s3MBps / directoryMBps }
    }

    public let lab: Lab
    public let s3URL: String
    public let size: UInt64

    public init(lab: Lab, s3URL: String, size: UInt64) {
        self.lab = lab
        self.s3URL = s3URL
        self.size = size
    }

    public func run(log: @Sendable (String) -> Void) async throws(SnaplabError) -> Result {
        let volume = try await lab.volumes.create(role: .data, size: size, tags: ["bench": "store"])
        let directory = lab.paths.stateDirectory.appendingPathComponent("bench-store-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: directory) }
        do throws(SnaplabError) {
            log("writing a reproducible \(ByteSize.format(size)) volume…")
            let content = MixedVolumeContent(size: size, seed: 7)
            try await BenchVolumeWriter.write(content, to: volume.path)
            let allocated = content.allocatedBytes
            let directoryStore = try await withStore { () async throws(StoreError) in
                try await SnapshotStore.open(DirectoryBackend(root: directory))
            }
            log("full snapshot into \(directoryStore.backend.location)…")
            let directorySeconds = try await time(volume, into: directoryStore)
            let s3Store = try await withStore { () async throws(StoreError) in
                try await SnapshotStore.open(try SnapshotStore.backend(for: s3URL))
            }
            log("full snapshot into \(s3Store.backend.location)…")
            let s3Seconds = try await time(volume, into: s3Store)
            try await lab.volumes.delete(volume.id)
            return Result(allocatedBytes: allocated, directorySeconds: directorySeconds, s3Seconds: s3Seconds)
        } catch {
            try? await lab.volumes.delete(volume.id)
            throw error
        }
    }

    private func time(_ volume: Volume, into store: SnapshotStore) async throws(SnaplabError) -> Double {
        let start = ContinuousClock.now
        let connection = try await VolumeExport.openStopped(file: volume.path, bitmap: nil)
        let session = try await withStore { () async throws(StoreError) in try await store.openSession() }
        do throws(SnaplabError) {
            // Chunks and table only, no manifest: garbage collection removes them.
            _ = try await SnapshotCopier(
                connection: connection, session: session, volumeSize: volume.size, parent: nil,
                dirtyContext: nil
            ).run(snapshotId: "bench-\(UUID().uuidString.prefix(8))") { _ in }
            await session.release()
        } catch {
            await session.release()
            throw error
        }
        return (ContinuousClock.now - start).inSeconds
    }
}
