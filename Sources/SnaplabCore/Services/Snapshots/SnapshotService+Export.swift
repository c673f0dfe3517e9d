import Blocking
import Foundation
import SnapshotStore

extension SnapshotService {
    /// A completed snapshot as a read-only block device, read from the store on demand (for an NBD export).
    /// It holds the store's shared lock, so garbage collection waits: `close()` it when the export ends.
    public func openBlockSource(_ id: String) async throws(SnaplabError) -> SnapshotBlockSource {
        let snapshot = try await catalog.snapshot(id)
        guard snapshot.state == .completed else {
            throw SnaplabError(
                .invalidState, "snapshot \(id) is \(snapshot.state.rawValue); only a completed snapshot can be exported"
            )
        }
        let opened = try await store.open()
        return try await withStore { () async throws(StoreError) in
            let session = try await opened.openSession()
            do throws(StoreError) {
                let manifest = try await opened.manifest(id)
                return try await BlockingPool.run { () throws(StoreError) in
                    try SnapshotBlockSource(session: session, manifest: manifest)
                }
            } catch {
                await session.release()
                throw error
            }
        }
    }
}
