import Foundation

/// The scheduler's idea of time: the wall clock in the daemon, a hand-moved one in tests.
public protocol PolicyClock: Sendable {
    func now() -> Date
    /// Sleeps until `date` (or less); throws when cancelled.
    func sleep(until date: Date) async throws
}

public struct SystemPolicyClock: PolicyClock {
    public init() {}

    public func now() -> Date { Date() }

    public func sleep(until date: Date) async throws {
        let seconds = max(0, date.timeIntervalSinceNow)
        try await Task.sleep(for: .milliseconds(Int(seconds * 1000)))
    }
}
