import Blocking
import Foundation
import NBD
import SnapshotStore
import Synchronization

/// Runs a long blocking copy loop on the blocking pool (never on Swift's cooperative threads), passing it a flag
/// that turns true when the calling task is cancelled.
func blockingCopy<T: Sendable>(_ what: String, _ body: @escaping @Sendable (CancellationFlag) throws -> T)
    async throws(SnaplabError) -> T
{
    let flag = CancellationFlag()
    do {
        return try await withTaskCancellationHandler {
            try await BlockingPool.run { try body(flag) }
        } onCancel: {
            flag.cancel()
        }
    } catch let error as SnaplabError {
        throw error
    } catch let error as NBDError {
        throw SnaplabError(.io, "\(what) failed: \(error.message)", cause: error)
    } catch let error as StoreError {
        throw SnaplabError(store: error)
    } catch {
        throw SnaplabError(.io, "\(what) failed", cause: error)
    }
}

/// Set when the task that started a blocking copy is cancelled; the copy checks it between requests.
final class CancellationFlag: Sendable {
    private let cancelled = Atomic<Bool>(false)

    func cancel() { cancelled.store(true, ordering: .relaxed) }

    var isCancelled: Bool { cancelled.load(ordering: .relaxed) }

    func check(_ message: String) throws(SnaplabError) {
        if isCancelled { throw SnaplabError(.io, message) }
    }
}
