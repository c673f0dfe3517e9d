import Foundation
import NBD
import SnapshotStore

/// `snaplab bench snapshot`: a reproducible mixed-content volume (`MixedVolumeContent`) snapshotted in full, after
/// a +1 % change written 64 KiB-aligned and after the same bytes written 4 KiB-aligned, then restored — timed
/// against `qemu-img convert -O raw` of the same volume and, when installed, restic and borg on its raw image, all
/// in the same run. The page cache is dropped before every timed step and every timed step ends with `sync`.
public struct SnapshotBenchmark: Sendable {
    public struct Options: Sendable {
        public var size: UInt64 = 4 << 30
        public var runs = 1
        public var peers = true
        /// Snapshots of other volumes put in the store first (memory must not grow with the store).
        public var otherSnapshots = 0
        public var seed: UInt64 = 20_261_202

        public init() {}
    }

    /// One timed step of one tool.
    public struct Step: Sendable, Codable {
        public var seconds: Double
        /// What the step added to the store or repository.
        public var storedBytes: UInt64?
        /// For a restore: what the restored image takes on disk (less than its size when sparse).
        public var allocatedBytes: UInt64?
    }

    public struct ToolRun: Sendable, Codable {
        public var tool: String
        public var full: Step?
        /// One per change, in `Run.changes` order.
        public var changes: [Step] = []
        public var restore: Step?
        /// snaplab only: this process's peak resident memory over its steps (child processes not counted).
        public var peakResidentBytes: UInt64?
    }

    public struct Change: Sendable, Codable {
        public var name: String
        public var bytes: UInt64
        public var writes: Int
    }

    public struct Run: Sendable, Codable {
        public var volumeSize: UInt64
        public var allocatedBytes: UInt64
        public var otherSnapshots: Int
        public var pageCacheDropped: Bool
        public var baselineSeconds: Double
        public var changes: [Change]
        public var tools: [ToolRun]
        /// `qemu-img compare` found the restored volume equal to the snapshotted one.
        public var restoreVerified: Bool

        public func tool(_ name: String) -> ToolRun? { tools.first { $0.tool == name } }
    }

    public struct Result: Sendable, Codable {
        public var runs: [Run]
    }

    public static let snaplab = "snaplab"

    public let lab: Lab
    public let options: Options
    public let log: @Sendable (String) -> Void

    public init(lab: Lab, options: Options, log: @escaping @Sendable (String) -> Void) {
        self.lab = lab
        self.options = options
        self.log = log
    }

    public func run() async throws(SnaplabError) -> Result {
        var runs: [Run] = []
        for number in 0..<max(1, options.runs) {
            if options.runs > 1 { log("run \(number + 1) of \(options.runs)") }
            runs.append(try await runOnce())
        }
        return Result(runs: runs)
    }

    private func runOnce() async throws(SnaplabError) -> Run {
        let content = MixedVolumeContent(size: options.size, seed: options.seed)
        let work = lab.paths.stateDirectory.appendingPathComponent("bench-snapshot-\(UUID().uuidString.prefix(8))")
        let raw = work.appendingPathComponent("source/volume.raw")
        var cleanup = BenchCleanup(lab: lab, work: work)
        do throws(SnaplabError) {
            try? FileManager.default.createDirectory(
                at: raw.deletingLastPathComponent(), withIntermediateDirectories: true)
            let volume = try await lab.volumes.create(role: .data, size: options.size, tags: ["bench": "snapshot"])
            cleanup.volumes.append(volume.id)
            log(
                "writing a reproducible \(ByteSize.format(options.size)) volume (\(ByteSize.format(content.allocatedBytes)) of random, text, binary-like, shifted duplicate and zero extents)…"
            )
            try await BenchVolumeWriter.write(content, to: volume.path)
            if options.otherSnapshots > 0 {
                log("putting \(options.otherSnapshots) snapshots of other volumes in the store first…")
                cleanup.storeSnapshots = try await BenchStoreFiller(lab: lab).fill(
                    count: options.otherSnapshots,
                    size: options.size, seed: options.seed)
            }

            log("baseline: qemu-img convert -f qcow2 -O raw…")
            let dropped = BenchSystem.dropPageCache()
            if !dropped {
                log("cannot drop the page cache (run as root for cold-cache figures): every tool reads a warm cache")
            }
            let baseline = try await timed { () async throws(SnaplabError) in
                try await Self.command(
                    "/usr/bin/qemu-img", ["convert", "-f", "qcow2", "-O", "raw", volume.path, raw.path])
            }

            var mine = ToolRun(tool: Self.snaplab)
            BenchSystem.resetPeakResident()
            log("snaplab: full snapshot…")
            var latest = try await snapshot(volume, cleanup: &cleanup)
            mine.full = latest.step
            var peak = BenchSystem.peakResidentBytes()

            let peers = options.peers ? PeerTool.Kind.allCases.filter(PeerTool.installed) : []
            if options.peers, peers.count < PeerTool.Kind.allCases.count {
                log("restic or borg is not installed (scripts/setup.sh installs them): comparing with what is")
            }
            var others: [(PeerTool, ToolRun)] = []
            for kind in peers {
                let tool = PeerTool(
                    kind: kind,
                    directory: work.appendingPathComponent(kind.rawValue.replacingOccurrences(of: " ", with: "-")),
                    source: raw)
                try await tool.initialize()
                log("\(kind.rawValue): full backup…")
                let seconds = try await timed { () async throws(SnaplabError) in try await tool.backup("full") }.seconds
                others.append(
                    (tool, ToolRun(tool: kind.rawValue, full: Step(seconds: seconds, storedBytes: tool.storedBytes))))
            }

            let aligned = BenchChange.aligned(volumeSize: options.size, seed: options.seed &+ 1)
            let changes = [
                aligned, BenchChange.unaligned(volumeSize: options.size, bytes: aligned.bytes, seed: options.seed &+ 2),
            ]
            for (number, change) in changes.enumerated() {
                log("applying \(change.name): \(change.writes.count) writes, \(ByteSize.format(change.bytes))…")
                try await BenchVolumeWriter.apply(change, to: volume.path, raw: raw.path)
                log("snaplab: incremental snapshot…")
                latest = try await snapshot(volume, cleanup: &cleanup)
                mine.changes.append(latest.step)
                peak = max(peak, BenchSystem.peakResidentBytes())
                for position in others.indices {
                    let tool = others[position].0
                    let before = tool.storedBytes
                    log("\(tool.kind.rawValue): backup after the change…")
                    let seconds = try await timed { () async throws(SnaplabError) in
                        try await tool.backup("change\(number)")
                    }.seconds
                    others[position].1.changes.append(
                        Step(seconds: seconds, storedBytes: tool.storedBytes - min(before, tool.storedBytes)))
                }
            }

            log("snaplab: restore…")
            let snapshotId = latest.id
            let restored = try await timed { () async throws(SnaplabError) -> Volume in
                try await lab.snapshots.restore(snapshotId)
            }
            cleanup.volumes.append(restored.value.id)
            peak = max(peak, BenchSystem.peakResidentBytes())
            mine.restore = Step(
                seconds: restored.seconds, allocatedBytes: BenchSystem.allocatedBytes(restored.value.path))
            mine.peakResidentBytes = peak
            let verified =
                (try? await Self.command(
                    "/usr/bin/qemu-img",
                    [
                        "compare", "-q", "-f", "qcow2", "-F", "qcow2",
                        volume.path, restored.value.path,
                    ])) != nil
            for position in others.indices {
                let tool = others[position].0
                log("\(tool.kind.rawValue): restore…")
                let target = tool.directory.appendingPathComponent("restored")
                let result = try await timed { () async throws(SnaplabError) -> URL in
                    try await tool.restore("change\(changes.count - 1)", into: target)
                }
                others[position].1.restore = Step(
                    seconds: result.seconds,
                    allocatedBytes: BenchSystem.allocatedBytes(result.value.path))
                try? FileManager.default.removeItem(at: target)
            }
            let run = Run(
                volumeSize: options.size, allocatedBytes: content.allocatedBytes,
                otherSnapshots: options.otherSnapshots, pageCacheDropped: dropped,
                baselineSeconds: baseline.seconds,
                changes: changes.map { Change(name: $0.name, bytes: $0.bytes, writes: $0.writes.count) },
                tools: [mine] + others.map(\.1), restoreVerified: verified)
            await cleanup.run()
            return run
        } catch {
            await cleanup.run()
            throw error
        }
    }

    /// A timed snapshot of `volume` (capture, copy, and a final sync).
    private func snapshot(_ volume: Volume, cleanup: inout BenchCleanup) async throws(SnaplabError)
        -> (id: String, step: Step)
    {
        let made = try await timed { () async throws(SnaplabError) -> Snapshot in
            try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
        }
        cleanup.snapshots.append(made.value.id)
        guard made.value.state == .completed else {
            throw SnaplabError(.io, "snapshot \(made.value.id) failed: \(made.value.errorMessage ?? "")")
        }
        return (made.value.id, Step(seconds: made.seconds, storedBytes: made.value.bytesStored))
    }

    /// Drops the page cache, then times `body` and a final `sync`.
    private func timed<T>(_ body: () async throws(SnaplabError) -> T) async throws(SnaplabError) -> (
        value: T, seconds: Double
    ) {
        BenchSystem.dropPageCache()
        let start = ContinuousClock.now
        let value = try await body()
        sync()
        return (value, (ContinuousClock.now - start).inSeconds)
    }

    static func command(_ executable: String, _ arguments: [String]) async throws(SnaplabError) {
        do {
            _ = try await ChildProcess.output(executable, arguments)
        } catch let failure as ChildProcess.Failure {
            throw SnaplabError(.io, "\(executable) \(arguments.first ?? "") failed: \(failure.logTail)")
        } catch {
            throw SnaplabError(.io, "cannot run \(executable)", cause: error)
        }
    }
}

/// What one benchmark run made, removed however it ends.
struct BenchCleanup {
    let lab: Lab
    let work: URL
    var volumes: [String] = []
    var snapshots: [String] = []
    /// Snapshots put straight into the store (not in the catalog).
    var storeSnapshots: [String] = []

    func run() async {
        for id in snapshots.reversed() { _ = try? await lab.snapshots.delete(id) }
        if let store = try? await lab.store.open() {
            for id in storeSnapshots { try? await store.deleteSnapshot(id) }
        }
        for id in volumes { try? await lab.volumes.delete(id) }
        try? FileManager.default.removeItem(at: work)
        _ = try? await lab.store.collectGarbage()
    }
}
