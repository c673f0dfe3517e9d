import Foundation

/// Turns runs of volume bytes into a snapshot. The caller borrows a buffer (`lease`), fills it with consecutive
/// chunks of the volume and hands it back (`submit`), in volume order; meanwhile chunks are tested for zeros,
/// hashed and compressed on every core, new ones are packed in order and packs are written (one write, one fsync
/// each) while more are read. Chunks not handed over are taken from the parent snapshot's table (incremental).
/// `finish` makes everything durable and returns what the manifest needs; the manifest itself goes last
/// (`StoreSession.commit`), so a crash never leaves a snapshot that looks complete.
///
/// Memory is bounded by the buffers (`slots` runs and a few packs) and the chunks not yet published in an index
/// object, never by the volume's or the store's size.
public final class SnapshotWriter: @unchecked Sendable {
    // @unchecked: `submitted`, `nextChunk` and `finished` belong to the caller's thread; `statistics` and
    // `parentNext` to the packing thread, read by the caller only after joining it; the stages share the rest
    // through their queues.
    public static let chunksPerRun = 32
    static let slots = 12
    /// Chunks stored but not yet in an index object; past this many, an index object is written.
    static let publishEvery = 32 * 1024

    /// A buffer lent to the caller, to be filled and submitted.
    public struct Lease: @unchecked Sendable {
        let slot: Int
        public let bytes: UnsafeMutableRawBufferPointer
    }

    public struct Result: Sendable {
        public var table: ChunkTableInfo
        public var bytesRead: UInt64
        public var bytesChanged: UInt64
        /// Uncompressed bytes of the chunks that were new to the store (`bytesChanged` minus what dedup found).
        public var bytesNew: UInt64 = 0
        public var bytesStored: UInt64
    }

    let store: SnapshotStore
    let io: ThreadIO
    let chunkSize: Int
    let volumeSize: UInt64
    private let parent: ChunkTableReader?
    private let spool: ChunkTableSpool
    private let buffers: RunBuffers
    private let freeSlots: BlockingQueue<Int>
    private let input: BlockingQueue<SubmittedRun>
    private let prepared = ReorderQueue<PreparedRun>()
    private let packs: PackPipeline
    private let failure = PipelineFailure()
    private let threads = StageThreads()
    private var submitted = 0
    private var nextChunk: UInt32 = 0
    private var finished = false

    // Packer state (packer thread only).
    private var statistics = Result(
        table: ChunkTableInfo(entries: 0, sha256: "", allocatedBytes: 0), bytesRead: 0,
        bytesChanged: 0, bytesStored: 0)
    private var parentNext: (UInt32, ChunkHash)?

    /// Bytes one lease holds.
    public var runBytes: Int { Self.chunksPerRun * chunkSize }

    init(session: StoreSession, volumeSize: UInt64, parent: Manifest?, scratchDirectory: String) throws(StoreError) {
        let store = session.store
        let io = ThreadIO(backend: store.backend)
        let chunkSize = store.config.chunkSize
        if let parent, parent.chunkSize != chunkSize {
            throw StoreError(
                .unsupported,
                "snapshot \(parent.snapshotId) uses \(parent.chunkSize)-byte chunks; this store uses \(chunkSize)")
        }
        self.store = store
        self.io = io
        self.chunkSize = chunkSize
        self.volumeSize = volumeSize
        self.parent = parent.map { ChunkTableReader($0, io: io) }
        spool = try ChunkTableSpool(directory: scratchDirectory, volumeSize: volumeSize, chunkSize: chunkSize)
        buffers = RunBuffers(slots: Self.slots, runBytes: Self.chunksPerRun * chunkSize)
        freeSlots = BlockingQueue(capacity: Self.slots)
        for slot in 0..<Self.slots { freeSlots.put(slot) }
        input = BlockingQueue(capacity: Self.slots)
        let uploaders = store.backend is DirectoryBackend ? 1 : 2
        packs = PackPipeline(store: store, io: io, uploaders: uploaders, failure: failure)
        // `packs` holds `failure`: a weak reference, or the two would keep each other (and the packs' buffers).
        failure.whenFailed { [freeSlots, input, prepared, weak packs] in
            freeSlots.close()
            input.close()
            _ = prepared.close()
            packs?.stop()
        }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        threads.start("snaplab-hash", threads: workers) { [self] _ in hashLoop() }
        threads.start("snaplab-pack") { [self] _ in packLoop() }
        packs.start(threads)
    }

    // MARK: Caller side (one thread)

    /// A free buffer; waits while every buffer is in use. Throws the pipeline's failure, if any.
    public func lease() throws(StoreError) -> Lease {
        try failure.check()
        guard let slot = freeSlots.take() else {
            throw failure.current ?? StoreError(.io, "the snapshot writer was stopped")
        }
        return Lease(slot: slot, bytes: buffers.input(slot))
    }

    /// Hands over `lease` holding chunks `firstChunk…` (`length` bytes: whole chunks, but for the volume's
    /// last). Submissions must come in increasing chunk order.
    public func submit(_ lease: Lease, firstChunk: UInt32, length: Int) throws(StoreError) {
        let end = UInt64(firstChunk) * UInt64(chunkSize) + UInt64(length)
        guard length > 0, length <= runBytes, firstChunk >= nextChunk, end <= volumeSize,
            length % chunkSize == 0 || end == volumeSize
        else {
            freeSlots.put(lease.slot)
            throw StoreError(
                .io,
                "a run of \(length) bytes at chunk \(firstChunk) is not whole chunks after the last run, inside the \(volumeSize)-byte volume and the writer's \(runBytes)-byte buffers"
            )
        }
        let run = SubmittedRun(sequence: submitted, slot: lease.slot, firstChunk: firstChunk, length: length)
        submitted += 1
        nextChunk = firstChunk + UInt32((length + chunkSize - 1) / chunkSize)
        guard input.put(run) else { throw failure.current ?? StoreError(.io, "the snapshot writer was stopped") }
    }

    /// Waits for every chunk to be stored and indexed and the chunk table to be written. Blocking.
    public func finish(snapshotId: String) throws(StoreError) -> Result {
        precondition(!finished, "finish or abandon once")
        finished = true
        input.close()
        prepared.end(at: submitted)
        threads.wait()
        if let error = failure.current {
            spool.discard()
            throw error
        }
        do throws(StoreError) {
            try packs.publishIndex()
            statistics.table = try spool.publish(as: StoreLayout.table(snapshotId), io: io)
            statistics.bytesStored = packs.bytesStored
            statistics.bytesNew = packs.bytesPacked
            return statistics
        } catch {
            spool.discard()
            throw error
        }
    }

    /// Stops without making a snapshot: waits for every thread and write in flight (so nothing is written
    /// afterwards); packs already written stay for garbage collection. Blocking.
    public func abandon() {
        guard !finished else { return }
        finished = true
        failure.fail(StoreError(.io, "the snapshot was abandoned"))
        prepared.end(at: submitted)
        threads.wait()
        spool.discard()
    }

    // MARK: Hashing threads

    private func hashLoop() {
        let coder = store.coder()
        let scratch = UnsafeMutableRawBufferPointer.allocate(
            byteCount: ChunkCoder.compressedLimit(chunkSize), alignment: 64)
        defer { scratch.deallocate() }
        while let run = input.take() {
            if failure.current != nil {
                freeSlots.put(run.slot)
                continue
            }
            prepared.put(run.sequence, prepare(run, coder: coder, scratch: scratch))
        }
    }

    /// Tests, hashes and (when new) compresses each chunk of a run. A compressed chunk is smaller than its raw
    /// bytes, so it goes back into the run's buffer where the raw chunk was: no second buffer per run.
    private func prepare(_ run: SubmittedRun, coder: ChunkCoder, scratch: UnsafeMutableRawBufferPointer) -> PreparedRun
    {
        let buffer = buffers.input(run.slot)
        let bytes = UnsafeRawBufferPointer(buffer)
        var chunks: [PreparedChunk] = []
        chunks.reserveCapacity(Self.chunksPerRun)
        var start = 0
        while start < run.length {
            let length = min(chunkSize, run.length - start)
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)])
            var result = PreparedChunk(
                length: length, hash: nil, codec: .raw, payloadStart: start, payloadLength: length)
            if !ChunkCoder.isZero(chunk) {
                let hash = coder.name(chunk)
                result.hash = hash
                if !packs.knows(hash) {
                    let (codec, written) = coder.encode(chunk, into: scratch)
                    result.isNew = true
                    if codec == .zstd {
                        UnsafeMutableRawBufferPointer(rebasing: buffer[start..<(start + written)])
                            .copyMemory(from: UnsafeRawBufferPointer(rebasing: scratch[0..<written]))
                        result.codec = .zstd
                        result.payloadLength = written
                    }
                }
            }
            chunks.append(result)
            start += length
        }
        return PreparedRun(slot: run.slot, firstChunk: run.firstChunk, length: run.length, chunks: chunks)
    }

    // MARK: Packing thread

    private func packLoop() {
        do throws(StoreError) {
            parentNext = try parent?.next()
            while let run = prepared.take() {
                try pack(run)
                freeSlots.put(run.slot)
            }
            guard failure.current == nil else { return }
            while let (index, hash) = parentNext {
                try spool.append(index, hash)
                parentNext = try parent?.next()
            }
            try packs.sealLast()
        } catch {
            failure.fail(error)
        }
    }

    private func pack(_ run: PreparedRun) throws(StoreError) {
        let input = UnsafeRawBufferPointer(buffers.input(run.slot))
        for (number, chunk) in run.chunks.enumerated() {
            let index = run.firstChunk + UInt32(number)
            // Parent entries before this chunk are unchanged; the one at it is replaced.
            var previous: ChunkHash?
            while let (parentIndex, parentHash) = parentNext, parentIndex <= index {
                if parentIndex < index { try spool.append(parentIndex, parentHash) } else { previous = parentHash }
                parentNext = try parent?.next()
            }
            if chunk.hash != previous { statistics.bytesChanged += UInt64(chunk.length) }
            guard let hash = chunk.hash else { continue }
            try spool.append(index, hash)
            if chunk.isNew {
                let payload = UnsafeRawBufferPointer(
                    rebasing: input[chunk.payloadStart..<(chunk.payloadStart + chunk.payloadLength)])
                try packs.add(hash: hash, codec: chunk.codec, rawLength: chunk.length, payload: payload)
            }
        }
        statistics.bytesRead += UInt64(run.length)
    }
}

/// A run the caller submitted: `length` bytes of consecutive chunks from `firstChunk`, in buffer `slot`.
struct SubmittedRun: Sendable {
    var sequence: Int
    var slot: Int
    var firstChunk: UInt32
    var length: Int
}

/// One chunk after the hashing thread: zero (no hash), known to the store, or new with its payload (compressed
/// or raw) in the run's buffer, where the raw chunk was.
struct PreparedChunk: Sendable {
    var length: Int
    var hash: ChunkHash?
    var codec: ChunkCodec
    var payloadStart: Int
    var payloadLength: Int
    var isNew = false
}

struct PreparedRun: Sendable {
    var slot: Int
    var firstChunk: UInt32
    var length: Int
    var chunks: [PreparedChunk]
}

/// The writer's run buffers, allocated once.
final class RunBuffers: @unchecked Sendable {
    // @unchecked: a slot is used by one stage at a time, handed on through the pipeline's queues.
    private let memory: UnsafeMutableRawBufferPointer
    private let runBytes: Int

    init(slots: Int, runBytes: Int) {
        self.runBytes = runBytes
        memory = UnsafeMutableRawBufferPointer.allocate(byteCount: runBytes * slots, alignment: 4096)
    }

    deinit {
        memory.deallocate()
    }

    func input(_ slot: Int) -> UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(rebasing: memory[(slot * runBytes)..<((slot + 1) * runBytes)])
    }
}
