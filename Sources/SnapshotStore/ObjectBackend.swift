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

    /// Whether objects can be held against deletion until a date (an S3 bucket with object lock).
    func retentionSupported() async throws(StoreError) -> Bool
    /// Holds the object's current version until `until`; an existing later date is kept.
    func retain(_ key: String, until: Date, compliance: Bool) async throws(StoreError)
    /// Until when the object's current version is held, or nil.
    func retainedUntil(_ key: String) async throws(StoreError) -> Date?
    /// Brings a governance retention later than `date` down to it; true when it did (compliance stays).
    func shortenGovernance(_ key: String, to date: Date) async throws(StoreError) -> Bool
    /// Removes what a versioned bucket keeps of overwritten and deleted objects, except versions still held.
    func removeOldVersions() async throws(StoreError) -> (removed: Int, kept: Int)
}

/// A directory has no retention and no versions: whoever can write it can delete anything (said in the README).
extension ObjectBackend {
    public func prepare() async throws(StoreError) {}
    public func retentionSupported() async throws(StoreError) -> Bool { false }
    public func retain(_ key: String, until: Date, compliance: Bool) async throws(StoreError) {}
    public func retainedUntil(_ key: String) async throws(StoreError) -> Date? { nil }
    public func shortenGovernance(_ key: String, to date: Date) async throws(StoreError) -> Bool { false }
    public func removeOldVersions() async throws(StoreError) -> (removed: Int, kept: Int) { (0, 0) }
}

/// A held store lock; released by `release()` or when the holder goes away (including a killed process).
public protocol StoreLock: Sendable {
    func release() async
    /// False once the lock may have been lost (an object lock that could not be refreshed): whatever the
    /// holder was about to publish must not be.
    var isHeld: Bool { get }
}
