import Foundation
import Testing

@testable import SnaplabCore

/// `--pull-rate`: the restorer's thread is held back to the rate (only lower bounds are checked: a noisy machine
/// can make a step slower, never faster).
@Suite struct HydrationPaceTests {
    @Test func aHydrationAheadOfTheRateWaits() {
        let pace = HydrationPace(bytesPerSecond: 10 << 20, volumeSize: 100 << 20)
        pace.wait(untilDone: 5)  // 5 MiB at 10 MiB/s: due half a second after the start
        #expect(ContinuousClock.now - pace.started >= .milliseconds(490))
        pace.wait(untilDone: 8)
        #expect(ContinuousClock.now - pace.started >= .milliseconds(790))
    }
}
