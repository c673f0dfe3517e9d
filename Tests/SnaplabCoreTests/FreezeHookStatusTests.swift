import Testing

@testable import SnaplabCore

@Suite struct FreezeHookStatusTests {
    @Test func onlyEveryHookSucceedingIsApplicationConsistent() throws {
        let good = try #require(FreezeHookStatus(parsing: "hooks 2\nfreeze 10-postgresql 0\nfreeze 20-queue 0\n"))
        #expect(good.allSucceeded)
        #expect(good.summary == "application hooks: 10-postgresql, 20-queue")

        let failed = try #require(FreezeHookStatus(parsing: "hooks 2\nfreeze 10-postgresql 0\nfreeze 20-queue 3\n"))
        #expect(!failed.allSucceeded)
        #expect(failed.summary.contains("20-queue (exit 3)"))

        // A hook that never reported (the freeze was cut short) is not a success.
        #expect(try #require(FreezeHookStatus(parsing: "hooks 2\nfreeze 10-postgresql 0\n")).allSucceeded == false)
        let none = try #require(FreezeHookStatus(parsing: "hooks 0\n"))
        #expect(!none.allSucceeded && none.summary == "no application hooks in the guest")
    }

    @Test func anythingElseIsNoStatus() {
        #expect(FreezeHookStatus(parsing: "") == nil)
        #expect(FreezeHookStatus(parsing: "freeze a 0\n") == nil)
        #expect(FreezeHookStatus(parsing: "hooks 1\nsomething else\n") == nil)
    }
}
