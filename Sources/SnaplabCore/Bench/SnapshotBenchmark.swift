import Foundation
import NBD

/// `snaplab bench snapshot`: builds a reproducible test volume, then times a full snapshot, a 1 % incremental
/// one and a restore against `qemu-img convert -O raw` of the same volume, measured in the same run.
public struct SnapshotBenchmark: Sendable {
    public struct Result: Sendable, Codable {
        public var volumeSize: UInt64
        public var allocatedBytes: UInt64
        public var changedBytes: UInt64
        public var baselineSeconds: Double
        public var fullSeconds: Double
        public var incrementalSeconds: Double
        public var restoreSeconds: Double
        public var fullStoredBytes: UInt64
        public var incrementalReadBytes: UInt64
        public var incrementalChangedBytes: UInt64
        public var incrementalStoredBytes: UInt64
        public var peakResidentBytes: UInt64

        func rate(_ seconds: Double) -> Double { Double(allocatedBytes) / seconds / 1e6 }
        public var baselineMBps: Double { rate(baselineSeconds) }
        public var fullMBps: Double { rate(fullSeconds) }
        public var restoreMBps: Double { rate(restoreSeconds) }
        public var fullVersusBaseline: Double { fullMBps / baselineMBps }
        public var restoreVersusBaseline: Double { restoreMBps / baselineMBps }
        public var incrementalVersusFull: Double { incrementalSeconds / fullSeconds }
        public var storedVersusChanged: Double { Double(incrementalStoredBytes) / Double(max(1, incrementalChangedBytes)) }
    }

    public let lab: Lab
    public let size: UInt64
    public let log: @Sendable (String) -> Void

    public init(lab: Lab, size: UInt64, log: @escaping @Sendable (String) -> Void) {
        self.lab = lab
        self.size = size
        self.log = log
    }

    public func run() async throws(SnaplabError) -> Result {
        let content = TestVolumeContent(chunkSize: 64 << 10, seed: 20261126)
        let volume = try await lab.createVolume(role: .data, size: size, tags: ["bench": "snapshot"])
        var created: [String] = []
        var restoredVolume: Volume?
        do throws(SnaplabError) {
            log("writing a reproducible \(ByteSize.format(size)) test volume \(volume.id)…")
            let allocated = try await write(content, to: volume.path, chunks: nil, generation: 0)

            log("baseline: qemu-img convert -O raw… (peak RSS so far \(ByteSize.format(Self.peakResidentBytes())))")
            let baseline = try await timeBaseline(volume.path)

            log("full snapshot… (peak RSS so far \(ByteSize.format(Self.peakResidentBytes())))")
            let (full, fullSeconds) = try await timed { () async throws(SnaplabError) in
                try await lab.waitForSnapshot(try await lab.createSnapshot(volumeId: volume.id).id)
            }
            created.append(full.id)
            guard full.state == .completed else { throw SnaplabError(.io, "full snapshot failed: \(full.errorMessage ?? "")") }

            let chunkCount = size / UInt64(content.chunkSize)
            let changedChunks = stride(from: UInt64(37), to: chunkCount, by: 100).map { $0 }
            log("changing \(changedChunks.count) scattered chunks (1 %)… (peak RSS so far \(ByteSize.format(Self.peakResidentBytes())))")
            let changed = try await write(content, to: volume.path, chunks: changedChunks, generation: 1)

            log("incremental snapshot… (peak RSS so far \(ByteSize.format(Self.peakResidentBytes())))")
            let (incremental, incrementalSeconds) = try await timed { () async throws(SnaplabError) in
                try await lab.waitForSnapshot(try await lab.createSnapshot(volumeId: volume.id).id)
            }
            created.append(incremental.id)
            guard incremental.state == .completed else {
                throw SnaplabError(.io, "incremental snapshot failed: \(incremental.errorMessage ?? "")")
            }

            log("restore… (peak RSS so far \(ByteSize.format(Self.peakResidentBytes())))")
            let (restored, restoreSeconds) = try await timed { () async throws(SnaplabError) in
                try await lab.restoreSnapshot(incremental.id)
            }
            restoredVolume = restored
            let result = Result(
                volumeSize: size, allocatedBytes: allocated, changedBytes: changed, baselineSeconds: baseline,
                fullSeconds: fullSeconds, incrementalSeconds: incrementalSeconds, restoreSeconds: restoreSeconds,
                fullStoredBytes: full.bytesStored, incrementalReadBytes: incremental.bytesRead,
                incrementalChangedBytes: incremental.bytesChanged, incrementalStoredBytes: incremental.bytesStored,
                peakResidentBytes: Self.peakResidentBytes())
            try await cleanUp(volume: volume, restored: restoredVolume, snapshots: created)
            return result
        } catch {
            try? await cleanUp(volume: volume, restored: restoredVolume, snapshots: created)
            throw error
        }
    }

    private func cleanUp(volume: Volume, restored: Volume?, snapshots: [String]) async throws(SnaplabError) {
        for id in snapshots { try? await lab.deleteSnapshot(id) }
        if let restored { try await lab.deleteVolume(restored.id) }
        try await lab.deleteVolume(volume.id)
        _ = try? await lab.collectGarbage()
    }

    /// Writes a whole reproducible volume; returns the bytes written.
    static func fill(_ content: TestVolumeContent, path: String, size: UInt64) async throws(SnaplabError) -> UInt64 {
        try await write(content, to: path, size: size, chunks: nil, generation: 0)
    }

    private func write(_ content: TestVolumeContent, to path: String, chunks: [UInt64]?, generation: UInt64)
        async throws(SnaplabError) -> UInt64
    {
        try await Self.write(content, to: path, size: size, chunks: chunks, generation: generation)
    }

    /// Writes the non-zero chunks (all, or the listed ones) through qemu-nbd; returns the bytes written.
    private static func write(_ content: TestVolumeContent, to path: String, size: UInt64, chunks: [UInt64]?,
                              generation: UInt64) async throws(SnaplabError) -> UInt64
    {
        let connection = try await VolumeExport.openWritable(file: path)
        let chunkSize = content.chunkSize
        do {
            return try await BlockingPool.run {
                let all = chunks ?? Array(0..<(size / UInt64(chunkSize)))
                var buffer = Data(count: chunkSize)
                var written: UInt64 = 0
                for chunk in all where content.kind(of: chunk) != .zero || generation > 0 {
                    try buffer.withUnsafeMutableBytes { bytes in
                        content.fill(bytes, chunk: chunk, generation: generation)
                        try connection.write(UnsafeRawBufferPointer(bytes), at: chunk * UInt64(chunkSize))
                    }
                    written += UInt64(chunkSize)
                }
                try connection.flush()
                return written
            }
        } catch {
            throw SnaplabError(.io, "writing the benchmark volume failed", cause: error)
        }
    }

    private func timeBaseline(_ path: String) async throws(SnaplabError) -> Double {
        let target = "\(lab.paths.stateDirectory.path)/bench-baseline-\(UUID().uuidString).raw"
        defer { try? FileManager.default.removeItem(atPath: target) }
        let (_, seconds) = try await timed { () async throws(SnaplabError) in
            do {
                _ = try await Subprocess.output("/usr/bin/qemu-img", ["convert", "-f", "qcow2", "-O", "raw", path, target])
            } catch {
                throw SnaplabError(.io, "qemu-img convert failed", cause: error)
            }
        }
        return seconds
    }

    private func timed<T>(_ body: () async throws(SnaplabError) -> T) async throws(SnaplabError) -> (T, Double) {
        let start = ContinuousClock.now
        let value = try await body()
        return (value, (ContinuousClock.now - start).inSeconds)
    }

    /// VmHWM: the most memory this process has held resident.
    static func peakResidentBytes() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kilobytes = UInt64(line.split(separator: " ").dropFirst().first ?? "")
        else { return 0 }
        return kilobytes * 1024
    }
}
