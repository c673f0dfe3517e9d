import Dispatch
import Foundation

/// SIGINT and SIGTERM for commands that serve until told to stop.
enum Interrupts {
    /// Calls `handler` on SIGINT or SIGTERM, which no longer end the process by themselves; cancel the returned
    /// sources to stop listening.
    static func onInterrupt(_ handler: @escaping @Sendable () -> Void) -> [any DispatchSourceSignal] {
        signal(SIGINT, SIG_IGN)
        signal(SIGTERM, SIG_IGN)
        return [SIGINT, SIGTERM].map { number in
            let source = DispatchSource.makeSignalSource(signal: number)
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    /// Returns on the first SIGINT or SIGTERM.
    static func untilInterrupted() async {
        let once = OnceFlag()
        var sources: [any DispatchSourceSignal] = []
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            sources = onInterrupt { if once.claim() { continuation.resume() } }
        }
        for source in sources { source.cancel() }
    }
}

/// True for the first caller only.
private final class OnceFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var claimed = false

    func claim() -> Bool {
        lock.withLock {
            defer { claimed = true }
            return !claimed
        }
    }
}
