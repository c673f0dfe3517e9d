import Blocking
import Foundation

/// What `store copy` did.
public struct CopyReport: Sendable, Codable, Equatable {
    public var snapshotsCopied: [String] = []
    public var snapshotsAlreadyThere: [String] = []
    public var chunksCopied = 0
    public var bytesStored: UInt64 = 0
    public var artifactsCopied = 0
    public var documentsCopied = 0
}

extension SnapshotStore {
    /// Copies snapshots (all, or the listed ones) into another store, as cross-region copy does: the chunk
    /// records the destination lacks, moved verbatim (each checked against its hash on the way, never
    /// recompressed), then the chunk table, then the manifest, last. Artifacts and documents (image
    /// definitions) go along. Holds both stores' shared locks. Between stores of which one is encrypted, each
    /// snapshot is re-encoded instead (`transcode`).
    public func copy(
        _ snapshotIds: [String]? = nil, to destination: SnapshotStore,
        progress: (@Sendable (String) -> Void)? = nil
    ) async throws(StoreError) -> CopyReport {
        if isEncrypted || destination.isEncrypted {
            let ids: [String]
            if let snapshotIds { ids = snapshotIds } else { ids = try await self.snapshotIds() }
            var report = try await withSession { (own) async throws(StoreError) -> CopyReport in
                try await destination.withSession { (target) async throws(StoreError) -> CopyReport in
                    try await transcode(ids, from: own, into: target, progress: progress)
                }
            }
            try await transcodeDocuments(to: destination, report: &report)
            return report
        }
        var report = try await withSession { (_) async throws(StoreError) -> CopyReport in
            try await destination.withSession { (target) async throws(StoreError) -> CopyReport in
                try await copyLocked(snapshotIds, to: target, progress: progress)
            }
        }
        for key in try await backend.list(prefix: StoreLayout.artifactsPrefix)
            + backend.list(prefix: StoreLayout.documentsPrefix)
        {
            if try await destination.backend.exists(key) { continue }
            try await destination.backend.put(key, try await backend.get(key))
            if key.hasPrefix(StoreLayout.artifactsPrefix) {
                report.artifactsCopied += 1
            } else {
                report.documentsCopied += 1
            }
        }
        return report
    }

    /// The manifest of a snapshot to copy, or nil when the destination has it already (noted in the report);
    /// refused when the two stores' chunk sizes differ.
    func manifestToCopy(_ id: String, into target: StoreSession, report: inout CopyReport) async throws(StoreError)
        -> Manifest?
    {
        if try await target.store.hasManifest(id) {
            report.snapshotsAlreadyThere.append(id)
            return nil
        }
        let manifest = try await self.manifest(id)
        guard manifest.chunkSize == target.store.config.chunkSize else {
            throw StoreError(
                .unsupported,
                "snapshot \(id) uses \(manifest.chunkSize)-byte chunks; the destination store uses \(target.store.config.chunkSize)"
            )
        }
        return manifest
    }

    private func copyLocked(
        _ snapshotIds: [String]?, to target: StoreSession,
        progress: (@Sendable (String) -> Void)?
    ) async throws(StoreError) -> CopyReport {
        var report = CopyReport()
        let ids: [String]
        if let snapshotIds { ids = snapshotIds } else { ids = try await self.snapshotIds() }
        for id in ids {
            guard let manifest = try await manifestToCopy(id, into: target, report: &report) else { continue }
            let source = self
            let destination = target.store
            let (chunks, stored) = try await BlockingPool.run { () throws(StoreError) -> (Int, UInt64) in
                try RecordCopy(from: source, to: destination).run(manifest)
            }
            report.chunksCopied += chunks
            report.bytesStored += stored
            if manifest.embeddedChunks == nil {
                let key = StoreLayout.table(id)
                try await destination.backend.put(key, try await backend.get(key))
            }
            try await target.commit(manifest)
            report.snapshotsCopied.append(id)
            progress?(id)
        }
        return report
    }
}

/// Moves the records one snapshot needs from one store into another's packs, unchanged: each is decoded once
/// to check it against its hash, but stored as it was (compressed or not). Blocking.
struct RecordCopy {
    static let batchChunks = 128

    let source: SnapshotStore
    let destination: SnapshotStore

    init(from source: SnapshotStore, to destination: SnapshotStore) {
        self.source = source
        self.destination = destination
    }

    /// Returns the chunks copied and the bytes they take.
    func run(_ manifest: Manifest) throws(StoreError) -> (Int, UInt64) {
        let failure = PipelineFailure()
        let threads = StageThreads()
        let packs = PackPipeline(
            store: destination, io: ThreadIO(backend: destination.backend),
            uploaders: destination.backend is DirectoryBackend ? 1 : 2, failure: failure)
        failure.whenFailed { [weak packs] in packs?.stop() }
        packs.start(threads)
        var copied = 0
        do throws(StoreError) {
            let table = ChunkTableReader(manifest, io: ThreadIO(backend: source.backend))
            let coder = source.coder()
            let scratch = UnsafeMutableRawBufferPointer.allocate(
                byteCount: SnapshotReader.scratchBytes(manifest.chunkSize),
                alignment: DirectoryBackend.directAlignment)
            let check = UnsafeMutableRawBufferPointer.allocate(byteCount: manifest.chunkSize, alignment: 64)
            defer {
                scratch.deallocate()
                check.deallocate()
            }
            var batch: [PlannedChunk] = []
            var inBatch = Set<ChunkHash>()
            func flush() throws(StoreError) {
                try copy(batch, packs: packs, coder: coder, scratch: scratch, check: check)
                copied += batch.count
                batch.removeAll(keepingCapacity: true)
                inBatch.removeAll(keepingCapacity: true)
            }
            while let chunk = try table.nextLocated(in: source.index) {
                if packs.knows(chunk.hash) || inBatch.contains(chunk.hash) { continue }
                batch.append(chunk)
                inBatch.insert(chunk.hash)
                if batch.count == Self.batchChunks { try flush() }
            }
            try flush()
            try packs.sealLast()
        } catch {
            failure.fail(error)
        }
        threads.wait()
        try failure.check()
        try packs.publishIndex()
        return (copied, packs.bytesStored)
    }

    private func copy(
        _ batch: [PlannedChunk], packs: PackPipeline, coder: ChunkCoder,
        scratch: UnsafeMutableRawBufferPointer, check: UnsafeMutableRawBufferPointer
    ) throws(StoreError) {
        let io = ThreadIO(backend: source.backend)
        for read in SnapshotReader.reads(batch, limit: scratch.count - SnapshotReader.alignmentSlack) {
            let span = Int(read.end - read.start)
            let at = try io.readPack(StoreLayout.pack(read.pack), offset: read.start, length: span, into: scratch)
            let bytes = UnsafeRawBufferPointer(rebasing: scratch[at..<(at + span)])
            for position in read.positions {
                let chunk = batch[position]
                let location = chunk.location
                let payload = try PackFormat.payload(
                    in: bytes, recordAt: Int(location.recordStart - read.start),
                    location: location, hash: chunk.hash)
                let raw = UnsafeMutableRawBufferPointer(rebasing: check[0..<Int(location.rawLength)])
                try coder.decode(payload, codec: location.codec, hash: chunk.hash, into: raw)
                guard coder.name(UnsafeRawBufferPointer(raw)) == chunk.hash else {
                    throw StoreError(
                        .corrupt,
                        "chunk \(chunk.hash) in pack \(location.packId) does not match its hash; the source store is damaged (`snaplab store verify` lists what it breaks)"
                    )
                }
                try packs.add(
                    hash: chunk.hash, codec: location.codec, rawLength: Int(location.rawLength), payload: payload,
                    verbatim: true)
            }
        }
    }
}
