import Foundation
import Synchronization

/// Holds SIGINT and SIGTERM off while a guest's filesystems are frozen: a Ctrl-C between freeze and thaw would
/// otherwise leave the guest's writes hanging until the next command opens the lab and thaws it. The signal
/// is delivered (the process ends as it would have) once the section ends. Only signals whose action is the
/// default one (ending the process) are held; a server's own handlers are left alone. SIGKILL cannot be held:
/// the next command's recovery thaws then.
enum InterruptShield {
    private static let signals: [Int32] = [SIGINT, SIGTERM]
    private static let sections = Mutex<(depth: Int, replaced: [Int32])>((0, []))
    /// The signal that arrived inside a section (set from the signal handler).
    private static let held = Atomic<Int32>(0)

    /// Starts holding the signals off (sections nest); `release()` ends it.
    static func hold() {
        sections.withLock { state in
            state.depth += 1
            guard state.depth == 1 else { return }
            // Initialized here, not lazily inside the signal handler.
            held.store(0, ordering: .relaxed)
            for signal in signals {
                var current = sigaction()
                guard sigaction(signal, nil, &current) == 0, current.__sigaction_handler.sa_handler == nil,
                    current.sa_flags & SA_SIGINFO == 0
                else { continue }
                var holding = sigaction()
                holding.__sigaction_handler.sa_handler = { received in
                    InterruptShield.held.store(received, ordering: .relaxed)
                }
                sigemptyset(&holding.sa_mask)
                if sigaction(signal, &holding, nil) == 0 { state.replaced.append(signal) }
            }
        }
    }

    /// Ends a section; a signal that arrived during it is delivered now.
    static func release() {
        sections.withLock { state in
            state.depth -= 1
            guard state.depth == 0 else { return }
            for signal in state.replaced {
                var standard = sigaction()
                sigemptyset(&standard.sa_mask)
                sigaction(signal, &standard, nil)
            }
            state.replaced = []
            let received = held.exchange(0, ordering: .relaxed)
            // To the process, not this thread (which may block it).
            if received != 0 { kill(getpid(), received) }
        }
    }
}
