import Synchronization

/// Host-side instants of a launch, for measurement (the boot bench): when the domain was defined and when the
/// start call returned.
public final class LaunchTimings: Sendable {
    private let marks = Mutex<[String: ContinuousClock.Instant]>([:])

    public init() {}

    func record(_ name: String) {
        let now = ContinuousClock.now
        marks.withLock { $0[name] = now }
    }

    public subscript(_ name: String) -> ContinuousClock.Instant? {
        marks.withLock { $0[name] }
    }
}
