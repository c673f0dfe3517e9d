import Foundation
import SnapshotStore

/// `snaplab bench encryption`: the same volume snapshotted into, and restored from, a plain and an encrypted
/// directory store in one run (page cache dropped before each timed step), to give what encryption costs.
public struct EncryptionBenchmark: Sendable {
    public struct Step: Sendable, Codable {
        public var snapshotSeconds: Double
        public var restoreSeconds: Double
        public var storedBytes: UInt64
        public var chunks: Int
    }

    public struct Run: Sendable, Codable {
        public var plain: Step
        public var encrypted: Step
    }

    public struct Result: Sendable, Codable {
        public var allocatedBytes: UInt64
        public var runs: [Run]

        func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
        public var plainSnapshotMBps: Double { mbps(median(runs.map(\.plain.snapshotSeconds))) }
        public var encryptedSnapshotMBps: Double { mbps(median(runs.map(\.encrypted.snapshotSeconds))) }
        public var plainRestoreMBps: Double { mbps(median(runs.map(\.plain.restoreSeconds))) }
        public var encryptedRestoreMBps: Double { mbps(median(runs.map(\.encrypted.restoreSeconds))) }
        /// Encrypted ÷ plain throughput, pair by pair (each run measures both), median.
        public var snapshotRatio: Double {
            median(runs.map { $0.plain.snapshotSeconds / $0.encrypted.snapshotSeconds })
        }
        public var restoreRatio: Double { median(runs.map { $0.plain.restoreSeconds / $0.encrypted.restoreSeconds }) }
        private func mbps(_ seconds: Double) -> Double { Double(allocatedBytes) / seconds / 1e6 }
    }

    public let lab: Lab
    public let size: UInt64
    public let runs: Int

    public init(lab: Lab, size: UInt64, runs: Int) {
        self.lab = lab
        self.size = size
        self.runs = runs
    }

    public func run(log: @Sendable (String) -> Void) async throws(SnaplabError) -> Result {
        let volume = try await lab.volumes.create(role: .data, size: size, tags: ["bench": "encryption"])
        let work = lab.paths.stateDirectory.appendingPathComponent("bench-encryption-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: work) }
        do throws(SnaplabError) {
            try Directories.create(work)
            let key = work.appendingPathComponent("store.key")
            try withStoreSync { () throws(StoreError) in try StoreKeySource.generateKeyFile(at: key) }
            log("writing a reproducible \(ByteSize.format(size)) volume…")
            let content = MixedVolumeContent(size: size, seed: 7)
            try await BenchVolumeWriter.write(content, to: volume.path)
            var results: [Run] = []
            for number in 1...runs {
                log("run \(number)/\(runs): plain store…")
                let plain = try await measure(volume, in: work.appendingPathComponent("plain-\(number)"), key: nil)
                log("run \(number)/\(runs): encrypted store…")
                let encrypted = try await measure(
                    volume, in: work.appendingPathComponent("sealed-\(number)"), key: .keyFile(key))
                results.append(Run(plain: plain, encrypted: encrypted))
            }
            try await lab.volumes.delete(volume.id)
            return Result(allocatedBytes: content.allocatedBytes, runs: results)
        } catch {
            try? await lab.volumes.delete(volume.id)
            throw error
        }
    }

    /// A full snapshot into a new store at `directory`, then its restore into a scratch qcow2; both timed from a
    /// dropped page cache.
    private func measure(_ volume: Volume, in directory: URL, key: StoreKeySource?) async throws(SnaplabError) -> Step {
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await withStore { () async throws(StoreError) in
            try await SnapshotStore.open(
                DirectoryBackend(root: directory.appendingPathComponent("store")), encrypt: key)
        }
        let snapshotId = "snap-bench\(UUID().uuidString.prefix(8).lowercased())"
        BenchSystem.dropPageCache()
        let snapshotStart = ContinuousClock.now
        let session = try await withStore { () async throws(StoreError) in try await store.openSession() }
        let manifest: Manifest
        do throws(SnaplabError) {
            let connection = try await VolumeExport.openStopped(file: volume.path, bitmap: nil)
            let written = try await SnapshotCopier(
                connection: connection, session: session, volumeSize: volume.size, parent: nil, dirtyContext: nil
            ).run(snapshotId: snapshotId) { _ in }
            manifest = Manifest(
                snapshotId: snapshotId, volumeId: volume.id, volumeRole: "data", volumeSize: volume.size,
                chunkSize: store.config.chunkSize, parentId: nil, setId: nil, createdAt: Date(), completedAt: Date(),
                consistency: "crash", bytesRead: written.bytesRead, bytesChanged: written.bytesChanged,
                bytesStored: written.bytesStored, description: nil, tags: [:], attributes: [:], table: written.table)
            try await withStore { () async throws(StoreError) in try await session.commit(manifest) }
            BenchSystem.dropPageCache()
        } catch {
            await session.release()
            throw error
        }
        let snapshotSeconds = (ContinuousClock.now - snapshotStart).inSeconds
        let stored = manifest.bytesStored
        try await withStore { () async throws(StoreError) in try await store.reloadIndex() }
        let chunks = store.index.count
        let scratch = directory.appendingPathComponent("restored.qcow2")
        do throws(SnaplabError) {
            try await QemuImg.create(at: scratch.path, size: volume.size)
            BenchSystem.dropPageCache()
            let restoreStart = ContinuousClock.now
            let connection = try await VolumeExport.openWritable(file: scratch.path)
            try await VolumeRestorer(connection: connection, session: session, manifest: manifest, progress: { _ in })
                .run()
            BenchSystem.dropPageCache()
            let restoreSeconds = (ContinuousClock.now - restoreStart).inSeconds
            await session.release()
            return Step(
                snapshotSeconds: snapshotSeconds, restoreSeconds: restoreSeconds, storedBytes: stored, chunks: chunks)
        } catch {
            await session.release()
            throw error
        }
    }
}
