import Foundation
import SnaplabCommands
import SnaplabCore
import Testing

/// `snaplab bench api` in small (4 clients, 10 s): every request answered with success while snapshots of the
/// volume being tagged are taken and deleted.
@Suite struct APIBenchmarkTests {
    @Test func concurrentClientsGetNoErrorsWhileSnapshotsRun() async throws {
        try await TestLab.with { testLab in
            let result = try await APIBenchmark(lab: testLab.lab, clients: 4, duration: .seconds(10)) { _ in }.run()
            #expect(result.errors == 0, "\(result.firstErrors)")
            #expect(result.requests > 40 && result.snapshotsTaken >= 1, "\(result)")
            #expect(try await testLab.lab.volumes.list().isEmpty, "the benchmark removed its volume")
        }
    }
}
