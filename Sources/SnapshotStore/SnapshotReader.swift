import Foundation

/// Reads a snapshot back as decoded runs of chunks, in volume order: a planning thread walks the chunk table and
/// finds each chunk's record, decoding threads (one per core) fetch the records of a window of chunks with a few
/// large reads (neighbouring records of a pack in one), decompress them straight into the window's buffer and
/// check every chunk against its hash. The caller takes windows with `next()`, writes their runs and gives the
/// buffer back with `release`. Zero chunks are not in any window: what is not written stays a hole.
public final class SnapshotReader: @unchecked Sendable {
    // @unchecked: stages share state only through their queues; `released` counts are atomic via the queue.
    static let windowBytes = 4 << 20
    static let slots = 10
    /// The most one read fetches, and the widest gap between records it reads through rather than skips.
    static let readBytes = 4 << 20
    static let gapBytes = 256 << 10

    public let manifest: Manifest
    private let store: SnapshotStore
    private let io: ThreadIO
    private let table: ChunkTableReader
    private let memory: UnsafeMutableRawBufferPointer
    private let windowChunks: Int
    private let slotBytes: Int
    private let freeSlots = BlockingQueue<Int>(capacity: slots)
    private let planned = BlockingQueue<PlannedWindow>(capacity: slots)
    private let decoded = ReorderQueue<DecodedWindow>()
    private let failure = PipelineFailure()
    private let threads = StageThreads()
    private var closed = false

    /// One decoded window: its runs of consecutive chunks (offset in the volume, bytes), valid until `release`.
    public struct DecodedWindow: @unchecked Sendable {
        let slot: Int
        public let runs: [(offset: UInt64, bytes: UnsafeRawBufferPointer)]
        public let chunkCount: Int
    }

    init(session: StoreSession, manifest: Manifest) {
        self.manifest = manifest
        store = session.store
        io = ThreadIO(backend: store.backend)
        table = ChunkTableReader(manifest, io: io)
        windowChunks = max(1, Self.windowBytes / manifest.chunkSize)
        slotBytes = windowChunks * manifest.chunkSize
        memory = UnsafeMutableRawBufferPointer.allocate(byteCount: slotBytes * Self.slots, alignment: 4096)
        for slot in 0..<Self.slots { freeSlots.put(slot) }
        failure.whenFailed { [freeSlots, planned, decoded] in
            freeSlots.close()
            planned.close()
            _ = decoded.close()
        }
        threads.start("snaplab-plan") { [self] _ in planLoop() }
        // Two more decoders than cores: while some wait for their reads (past the page cache, so without
        // read-ahead), the others decode.
        let decoders = max(1, ProcessInfo.processInfo.activeProcessorCount) + 2
        threads.start("snaplab-decode", threads: decoders) { [self] _ in decodeLoop() }
    }

    deinit {
        memory.deallocate()
    }

    /// How many windows the caller may hold (taken, not yet released) when it asks for the next one: holding
    /// more could leave the decoders without a buffer for the window it waits for.
    public static let windowsCallerMayHold = slots - 1

    /// The next window in volume order, waiting for it; nil after the last. Throws the first failure (a chunk
    /// that does not match its hash, a missing pack…). Blocking; call it holding at most `windowsCallerMayHold`
    /// windows.
    public func next() throws(StoreError) -> DecodedWindow? {
        let window = decoded.take()
        try failure.check()
        return window
    }

    /// Gives a window's buffer back once its bytes are written.
    public func release(_ window: DecodedWindow) {
        freeSlots.put(window.slot)
    }

    /// Stops the threads (all of them, before returning). Blocking; call once done or on failure.
    public func close() {
        guard !closed else { return }
        closed = true
        failure.fail(StoreError(.io, "the snapshot reader was closed"))
        threads.wait()
    }

    // MARK: Planning thread

    private func planLoop() {
        var sequence = 0
        var window: [PlannedChunk] = []
        window.reserveCapacity(windowChunks)
        do throws(StoreError) {
            while let chunk = try table.nextLocated(in: store.index) {
                window.append(chunk)
                if window.count == windowChunks {
                    guard planned.put(PlannedWindow(sequence: sequence, chunks: window)) else { return }
                    sequence += 1
                    window.removeAll(keepingCapacity: true)
                }
            }
            if !window.isEmpty, planned.put(PlannedWindow(sequence: sequence, chunks: window)) { sequence += 1 }
            decoded.end(at: sequence)
            planned.close()
        } catch {
            failure.fail(error)
        }
    }

    // MARK: Decoding threads

    private func decodeLoop() {
        let coder = store.coder()
        let scratch = UnsafeMutableRawBufferPointer.allocate(
            byteCount: Self.scratchBytes(manifest.chunkSize), alignment: 4096)
        defer { scratch.deallocate() }
        // The slot first, then the window: windows are taken in order by decoders that can finish them, so the
        // one the caller waits for never waits for a slot held by later ones.
        while let slot = freeSlots.take() {
            guard let window = planned.take() else {
                freeSlots.put(slot)
                return
            }
            do throws(StoreError) {
                decoded.put(window.sequence, try decode(window, into: slot, scratch: scratch, coder: coder))
            } catch {
                failure.fail(error)
                return
            }
        }
    }

    private func decode(
        _ window: PlannedWindow, into slot: Int, scratch: UnsafeMutableRawBufferPointer,
        coder: ChunkCoder
    ) throws(StoreError) -> DecodedWindow {
        let chunkSize = manifest.chunkSize
        let base = slot * slotBytes
        for read in Self.reads(window.chunks, limit: scratch.count - Self.alignmentSlack) {
            let span = Int(read.end - read.start)
            let at = try io.readPack(StoreLayout.pack(read.pack), offset: read.start, length: span, into: scratch)
            let bytes = UnsafeRawBufferPointer(rebasing: scratch[at..<(at + span)])
            for position in read.positions {
                let chunk = window.chunks[position]
                let payload = try PackFormat.payload(
                    in: bytes, recordAt: Int(chunk.location.recordStart - read.start),
                    location: chunk.location, hash: chunk.hash)
                let start = base + position * chunkSize
                let destination = UnsafeMutableRawBufferPointer(
                    rebasing: memory[start..<(start + Int(chunk.location.rawLength))])
                do throws(StoreError) {
                    try coder.decode(payload, codec: chunk.location.codec, hash: chunk.hash, into: destination)
                } catch {
                    throw StoreError(
                        .corrupt,
                        "chunk \(chunk.hash) in pack \(chunk.location.packId) is damaged (\(error.message)); `snaplab store verify` lists what it breaks"
                    )
                }
                guard coder.name(UnsafeRawBufferPointer(destination)) == chunk.hash else {
                    throw StoreError(
                        .corrupt,
                        "chunk \(chunk.hash) in pack \(chunk.location.packId) does not match its hash; the store is damaged (`snaplab store verify` lists what it breaks)"
                    )
                }
            }
        }
        var runs: [(offset: UInt64, bytes: UnsafeRawBufferPointer)] = []
        var first = 0
        while first < window.chunks.count {
            var last = first
            while last + 1 < window.chunks.count, window.chunks[last + 1].index == window.chunks[last].index + 1 {
                last += 1
            }
            let start = base + first * chunkSize
            let end = base + last * chunkSize + Int(window.chunks[last].location.rawLength)
            runs.append(
                (
                    UInt64(window.chunks[first].index) * UInt64(chunkSize),
                    UnsafeRawBufferPointer(rebasing: memory[start..<end])
                ))
            first = last + 1
        }
        return DecodedWindow(slot: slot, runs: runs, chunkCount: window.chunks.count)
    }

    /// Room for one read of records, plus what aligning it to pages for a read past the page cache adds.
    static let alignmentSlack = 2 * DirectoryBackend.directAlignment

    static func scratchBytes(_ chunkSize: Int) -> Int {
        max(readBytes, PackFormat.recordHeaderSize + chunkSize) + alignmentSlack
    }

    /// The reads that fetch a window's records: grouped by pack, neighbours (gaps up to `gapBytes`) together, at
    /// most `readBytes` each.
    static func reads(_ chunks: [PlannedChunk], limit: Int = readBytes) -> [PackRead] {
        let order = chunks.indices.sorted { a, b in
            let (x, y) = (chunks[a].location, chunks[b].location)
            return x.pack != y.pack ? x.pack < y.pack : x.offset < y.offset
        }
        var reads: [PackRead] = []
        for position in order {
            let location = chunks[position].location
            if var last = reads.last, last.pack == location.pack, location.recordStart <= last.end + UInt64(gapBytes),
                max(last.end, location.recordEnd) - last.start <= UInt64(limit)
            {
                last.end = max(last.end, location.recordEnd)
                last.positions.append(position)
                reads[reads.count - 1] = last
            } else {
                reads.append(
                    PackRead(
                        pack: location.pack, start: location.recordStart, end: location.recordEnd,
                        positions: [position]))
            }
        }
        return reads
    }
}

struct PlannedChunk: Sendable {
    var index: UInt32
    var hash: ChunkHash
    var location: ChunkLocation
}

struct PlannedWindow: Sendable {
    var sequence: Int
    var chunks: [PlannedChunk]
}

/// One read of a pack: bytes `start..<end`, holding the records of the window's chunks at `positions`.
struct PackRead: Sendable {
    var pack: PackID
    var start: UInt64
    var end: UInt64
    var positions: [Int]
}
