import Foundation

/// Where the store's objects live. Every `put` is durable and atomic (readers see the old object, or none,
/// or the whole new one). Keys are `/`-separated relative paths.
public protocol ObjectBackend: Sendable {
    /// A URL-like name for messages: `dir:///path` or `s3://bucket/prefix`.
    var location: String { get }

    func put(_ key: String, _ data: Data) async throws(StoreError)
    func get(_ key: String) async throws(StoreError) -> Data
    func get(_ key: String, offset: UInt64, length: Int) async throws(StoreError) -> Data
    /// Keys under `prefix`, in no particular order.
    func list(prefix: String) async throws(StoreError) -> [String]
    /// Removes an object; a missing one is fine.
    func delete(_ key: String) async throws(StoreError)
    func exists(_ key: String) async throws(StoreError) -> Bool
    func size(_ key: String) async throws(StoreError) -> UInt64
    /// When the object was last written.
    func modified(_ key: String) async throws(StoreError) -> Date

    /// Makes the backend ready before the store is opened (an S3 bucket is created if missing).
    func prepare() async throws(StoreError)

    /// Takes the store lock: shared for writers of snapshots, exclusive for garbage collection. Waits up to
    /// `timeout`, then throws `.busy`.
    func lock(exclusive: Bool, timeout: Duration) async throws(StoreError) -> any StoreLock
}

extension ObjectBackend {
    public func prepare() async throws(StoreError) {}
}

/// A held store lock; released by `release()` or when the holder goes away (including a killed process).
public protocol StoreLock: Sendable {
    func release() async
    /// False once the lock may have been lost (an object lock that could not be refreshed): whatever the
    /// holder was about to publish must not be.
    var isHeld: Bool { get }
}
