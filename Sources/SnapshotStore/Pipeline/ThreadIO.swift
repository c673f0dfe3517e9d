import Foundation

/// The backend as the pipeline's own threads use it: synchronous. The directory backend is called directly;
/// other backends (S3) run their async calls while the calling thread — never one of Swift's cooperative
/// pool — waits.
struct ThreadIO: Sendable {
    let backend: any ObjectBackend

    /// Fills `buffer` with the object's bytes from `offset`.
    func read(_ key: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) {
        if let directory = backend as? DirectoryBackend {
            return try directory.readSync(key, offset: offset, into: buffer)
        }
        let target = UnsafeBuffer(buffer)
        try wait { [backend] () async throws(StoreError) in
            try await backend.read(key, offset: offset, into: target.pointer)
        }
    }

    /// Writes a new object nothing refers to yet (a pack), durably: the first `length` bytes of `buffer`, which
    /// is 4 KiB-aligned with room after them (see `DirectoryBackend.putNewDirectSync`).
    func putPack(_ key: String, _ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(StoreError) {
        if let directory = backend as? DirectoryBackend {
            return try directory.putNewDirectSync(key, buffer, length: length)
        }
        let source = UnsafeBuffer(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]))
        try wait { [backend] () async throws(StoreError) in
            try await backend.putNew(key, UnsafeRawBufferPointer(source.pointer))
        }
    }

    /// Reads `length` bytes of a pack from `offset` into `buffer` (4 KiB-aligned, `length + 8 KiB` at least),
    /// past the page cache where the backend can; returns where they start in `buffer`.
    func readPack(_ key: String, offset: UInt64, length: Int, into buffer: UnsafeMutableRawBufferPointer)
        throws(StoreError) -> Int
    {
        if let directory = backend as? DirectoryBackend {
            return try directory.readDirectSync(key, offset: offset, length: length, into: buffer)
        }
        try read(key, offset: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[0..<length]))
        return 0
    }

    func put(_ key: String, _ data: Data) throws(StoreError) {
        if let directory = backend as? DirectoryBackend {
            return try DirectoryBackend.writeDurably(data, to: directory.path(key))
        }
        try wait { [backend] () async throws(StoreError) in try await backend.put(key, data) }
    }

    func size(_ key: String) throws(StoreError) -> UInt64 {
        if let directory = backend as? DirectoryBackend { return try directory.sizeSync(key) }
        return try wait { [backend] () async throws(StoreError) in try await backend.size(key) }
    }

    private func wait<T: Sendable>(_ body: @escaping @Sendable () async throws(StoreError) -> T) throws(StoreError) -> T {
        let box = ResultBox<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do throws(StoreError) {
                box.result = .success(try await body())
            } catch {
                box.result = .failure(error)
            }
            done.signal()
        }
        done.wait()
        guard let result = box.result else { throw StoreError(.io, "a store request ended without a result") }
        return try result.get()
    }
}

/// A buffer handed to another thread that the sender keeps alive and does not touch until the call returns.
struct UnsafeBuffer: @unchecked Sendable {
    let pointer: UnsafeMutableRawBufferPointer

    init(_ pointer: UnsafeMutableRawBufferPointer) {
        self.pointer = pointer
    }
}

private final class ResultBox<T>: @unchecked Sendable {
    // @unchecked: written by the task before the semaphore is signalled, read by the waiter after.
    var result: Result<T, StoreError>?
}
