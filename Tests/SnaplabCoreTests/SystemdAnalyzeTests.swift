import Testing

@testable import SnaplabCore

@Suite struct SystemdAnalyzeTests {
    @Test func theSummaryLineSplitsIntoSeconds() throws {
        let direct = try #require(
            SystemdAnalyze.parse(
                "Startup finished in 3.808s (kernel) + 29.747s (userspace) = 33.555s \ngraphical.target reached after 23.062s in userspace.\n"
            ))
        #expect(direct == ["kernel": 3.808, "userspace": 29.747])
        let uefi = try #require(
            SystemdAnalyze.parse(
                "Startup finished in 2.102s (firmware) + 945ms (loader) + 4.1s (kernel) + 1min 2.500s (userspace) = 1min 9.647s"
            ))
        #expect(abs((uefi["loader"] ?? 0) - 0.945) < 1e-9 && uefi["firmware"] == 2.102)
        #expect(abs((uefi["userspace"] ?? 0) - 62.5) < 1e-9)
    }

    @Test func anUnfinishedBootIsNoSplit() {
        #expect(
            SystemdAnalyze.parse(
                "Bootup is not yet finished (org.freedesktop.systemd1.Manager.FinishTimestampMonotonic=0).") == nil)
        #expect(SystemdAnalyze.parse("Startup finished in soon (kernel) = 1s") == nil)
    }
}
