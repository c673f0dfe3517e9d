import Foundation

/// Bounds a hydration to a number of the volume's bytes per second (`--pull-rate`), so that a background pull
/// leaves the disk and the store to the guests: the restorer's thread sleeps whenever it is ahead of the rate.
struct HydrationPace: Sendable {
    let bytesPerSecond: UInt64
    let volumeSize: UInt64
    let started = ContinuousClock.now

    /// Called on the restorer's own thread (never the concurrency pool) with the percentage done.
    func wait(untilDone percent: Double) {
        guard bytesPerSecond > 0 else { return }
        let bytes = Double(volumeSize) * percent / 100
        let due = Duration.seconds(bytes / Double(bytesPerSecond))
        let ahead = due - (ContinuousClock.now - started)
        guard ahead > .milliseconds(1) else { return }
        Thread.sleep(forTimeInterval: Double(ahead.components.seconds) + Double(ahead.components.attoseconds) / 1e18)
    }
}
