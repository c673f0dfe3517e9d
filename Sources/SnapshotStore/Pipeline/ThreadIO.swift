import Foundation

/// What the data pipeline's own threads need of a backend, as blocking calls (never made from Swift's
/// cooperative pool).
protocol BlockingObjectBackend: ObjectBackend {
    /// Fills `buffer` with the object's bytes from `offset`.
    func readBlocking(_ key: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError)
    /// Writes a new object nothing refers to yet (a pack), durably: the first `length` bytes of `buffer`, which
    /// is 4 KiB-aligned with room after them (see `DirectoryBackend.putNewDirectSync`).
    func putPackBlocking(_ key: String, _ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(StoreError)
    /// `put`, durable and atomic.
    func putBlocking(_ key: String, _ data: Data) throws(StoreError)
    func sizeBlocking(_ key: String) throws(StoreError) -> UInt64
}

/// The backend as the pipeline's threads use it.
struct ThreadIO: Sendable {
    let backend: any ObjectBackend

    private var blocking: (any BlockingObjectBackend)? { backend as? any BlockingObjectBackend }

    private func unsupported() -> StoreError {
        StoreError(.unsupported, "the \(backend.location) backend cannot be used by the data pipeline")
    }

    func read(_ key: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) {
        guard let blocking else { throw unsupported() }
        try blocking.readBlocking(key, offset: offset, into: buffer)
    }

    func putPack(_ key: String, _ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(StoreError) {
        guard let blocking else { throw unsupported() }
        try blocking.putPackBlocking(key, buffer, length: length)
    }

    /// Reads `length` bytes of a pack from `offset` into `buffer` (4 KiB-aligned, `length + 8 KiB` at least),
    /// past the page cache where the backend can; returns where they start in `buffer`.
    func readPack(_ key: String, offset: UInt64, length: Int, into buffer: UnsafeMutableRawBufferPointer)
        throws(StoreError) -> Int
    {
        guard length >= 0, length <= buffer.count else {
            throw StoreError(
                .corrupt, "a read of \(length) bytes of \(key) does not fit its buffer; the index is damaged")
        }
        if let directory = backend as? DirectoryBackend {
            return try directory.readDirectSync(key, offset: offset, length: length, into: buffer)
        }
        try read(key, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]))
        return 0
    }

    func put(_ key: String, _ data: Data) throws(StoreError) {
        guard let blocking else { throw unsupported() }
        try blocking.putBlocking(key, data)
    }

    /// A whole (small) object: a manifest, a config.
    func get(_ key: String) throws(StoreError) -> Data {
        let size = try size(key)
        guard size <= UInt64(Int32.max) else {
            throw StoreError(.corrupt, "\(key) is \(size) bytes, larger than any object the store writes")
        }
        var data = Data(count: Int(size))
        try data.withMutableBytes { (bytes) throws(StoreError) in try read(key, offset: 0, into: bytes) }
        return data
    }

    func size(_ key: String) throws(StoreError) -> UInt64 {
        guard let blocking else { throw unsupported() }
        return try blocking.sizeBlocking(key)
    }
}

/// A buffer handed to another thread that the sender keeps alive and does not touch until the call returns.
struct UnsafeBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawBufferPointer

    init(_ pointer: UnsafeMutableRawBufferPointer) {
        self.pointer = pointer
    }
}
