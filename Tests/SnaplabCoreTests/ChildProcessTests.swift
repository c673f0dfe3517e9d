import Foundation
import Testing

@testable import SnaplabCore

@Suite struct ChildProcessTests {
    @Test func largeOutputOnBothPipesDoesNotStall() async throws {
        // More than a pipe buffer on stdout and on stderr: both must be drained while the program runs.
        let output = try await ChildProcess.output(
            "/bin/sh", ["-c", "head -c 1000000 /dev/zero; head -c 300000 /dev/zero >&2"])
        #expect(output.count == 1_000_000)
    }

    @Test func failureCarriesStandardError() async {
        await #expect {
            _ = try await ChildProcess.output("/bin/sh", ["-c", "echo broken >&2; exit 3"])
        } throws: { error in
            guard let failure = error as? ChildProcess.Failure else { return false }
            return failure.status == 3 && failure.logTail.contains("broken")
        }
    }
}
