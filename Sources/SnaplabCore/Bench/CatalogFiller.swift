import Foundation
import GRDB
import SnapshotStore

/// Fills a fresh lab with a history like a busy one's: volumes, policies, images, and `snapshots` hourly
/// snapshots spread over the volumes, tagged as policy runs tag them. Optionally the store gets a manifest and
/// chunk table for each (no chunk data): a 1 GiB volume with 10 % allocated, about 1 600 chunks, of which each
/// snapshot changes 2 % from the volume's previous one.
public struct CatalogFiller: Sendable {
    public static let volumes = 200
    public static let policies = 20
    public static let images = 20
    /// Snapshots per `batch` tag value: a tag filter whose answer has the same size whatever the lab's size.
    public static let batchSize = 100
    static let volumeSize: UInt64 = 1 << 30
    static let allocatedChunks = 1600
    /// A chunk changes every this many snapshots of its volume (2 % of them per snapshot).
    static let changeEvery = 50

    let lab: Lab

    public init(lab: Lab) {
        self.lab = lab
    }

    public static func snapshotId(_ number: Int) -> String { String(format: "snap-%017x", number + 1) }
    public static func volumeId(_ number: Int) -> String { String(format: "vol-%017x", number + 1) }
    public static func policyId(_ number: Int) -> String { String(format: "pol-%017x", number + 1) }

    /// The newest snapshot is an hour before `now`; each volume's are an hour apart.
    public func fillCatalog(snapshots count: Int, now: Date) async throws(SnaplabError) {
        let perVolume = (count + Self.volumes - 1) / Self.volumes
        try await lab.catalog.write { db in
            try Host(name: "bench", uri: "test:///default", poolName: "bench", poolPath: "/nonexistent").insert(db)
            for number in 0..<Self.volumes {
                try Volume(
                    id: Self.volumeId(number), host: "bench", role: .data, size: Self.volumeSize, state: .available,
                    poolVolume: "bench-\(number).qcow2", path: "/nonexistent/bench-\(number).qcow2",
                    tags: ["team": "t\(number % 10)", "policy": "p\(number % Self.policies)"]
                ).insert(db)
            }
            for number in 0..<Self.policies {
                try Policy(
                    id: Self.policyId(number), name: "hourly-\(number)", targetTags: ["policy": "p\(number)"],
                    schedule: PolicySchedule(intervalSeconds: 3600), anchor: now.addingTimeInterval(-86_400 * 365),
                    freeze: false, retention: Retention(keepHourly: 24, keepDaily: 7)
                ).insert(db)
            }
            for number in 0..<count {
                let volume = number % Self.volumes
                let slot = now.addingTimeInterval(-3600 * Double(perVolume - number / Self.volumes))
                try Snapshot(
                    id: Self.snapshotId(number), volumeId: Self.volumeId(volume), volumeRole: .data,
                    volumeSize: Self.volumeSize, state: .completed, progress: 100, incremental: number >= Self.volumes,
                    consistency: .crash, createdAt: slot, completedAt: slot.addingTimeInterval(20),
                    bytesRead: 100 << 20, bytesChanged: 2 << 20, bytesStored: 1 << 20, allocatedBytes: 100 << 20,
                    description: "policy hourly-\(volume % Self.policies)",
                    tags: [
                        PolicyService.policyTag: Self.policyId(volume % Self.policies),
                        PolicyService.slotTag: PolicyService.slotText(slot), "team": "t\(volume % 10)",
                        "batch": "b\(number / Self.batchSize)",
                    ]
                ).insert(db)
            }
            for number in 0..<min(Self.images, count) {
                try MachineImage(
                    id: String(format: "ami-%017x", number + 1), name: "image-\(number)", description: nil,
                    state: .available, bootSnapshotId: Self.snapshotId(number), kernelDigest: "", initrdDigest: "",
                    cmdline: "console=ttyS0", memoryMiB: 256, vcpus: 1, blockDeviceMappings: []
                ).insert(db)
            }
        }
    }

    /// A manifest and chunk table in the store for each catalog snapshot, written `concurrency` at a time.
    public func fillStore(snapshots count: Int, concurrency: Int = 8) async throws(SnaplabError) {
        let store = try await lab.store.open()
        let chunkSize = store.config.chunkSize
        try await withStore { () async throws(StoreError) in
            try await store.withSession { (session) async throws(StoreError) in
                var next = 0
                while next < count {
                    let batch = next..<min(count, next + concurrency)
                    next = batch.upperBound
                    let failures = await withTaskGroup(of: StoreError?.self) { group in
                        for number in batch {
                            group.addTask {
                                do throws(StoreError) {
                                    try await Self.commit(number, session: session, chunkSize: chunkSize)
                                    return nil
                                } catch {
                                    return error
                                }
                            }
                        }
                        var failures: [StoreError] = []
                        for await failure in group { if let failure { failures.append(failure) } }
                        return failures
                    }
                    if let failure = failures.first { throw failure }
                }
            }
        }
    }

    private static func commit(_ number: Int, session: StoreSession, chunkSize: Int) async throws(StoreError) {
        let volume = number % volumes
        let generation = number / volumes
        var table = ChunkTable()
        // Every tenth chunk of the volume is allocated.
        for chunk in 0..<allocatedChunks {
            let version = (generation + chunk) / changeEvery
            table.append(UInt32(chunk * 10), syntheticHash(volume: volume, chunk: chunk, version: version))
        }
        let manifest = Manifest(
            snapshotId: snapshotId(number), volumeId: volumeId(volume), volumeRole: "data", volumeSize: volumeSize,
            chunkSize: chunkSize, parentId: nil, setId: nil, createdAt: Date(), completedAt: Date(),
            consistency: "crash", bytesRead: 0, bytesChanged: 0, bytesStored: 0, description: nil, tags: [:],
            attributes: [:], table: ChunkTableInfo(entries: 0, sha256: "", allocatedBytes: 0))
        try await session.commit(manifest, table: table)
    }

    /// A made-up chunk name, the same for the same chunk version of the same volume.
    static func syntheticHash(volume: Int, chunk: Int, version: Int) -> ChunkHash {
        var state = UInt64(volume) << 40 ^ UInt64(chunk) << 20 ^ UInt64(version)
        var words: [UInt64] = []
        for _ in 0..<4 {
            // splitmix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var mixed = state
            mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
            mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
            words.append((mixed ^ (mixed >> 31)).bigEndian)
        }
        return words.withUnsafeBytes { ChunkHash(bytes: $0) }
    }
}
