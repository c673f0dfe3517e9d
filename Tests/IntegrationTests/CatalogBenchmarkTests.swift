import Foundation
import Testing

/// `bench catalog` runs end to end on a small lab: every call is measured, answers have the sizes they should,
/// and the filled lab is removed.
@Suite struct CatalogBenchmarkTests {
    struct Result: Decodable {
        struct Call: Decodable {
            var name: String
            var seconds: [Double?]
            var bytes: [Int?]
        }
        var sizes: [Int]
        var calls: [Call]
    }

    @Test func everyCallIsMeasuredOnASmallLab() throws {
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent(
            "catalog-bench-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outcome = try CommandLineTests.runBinary(
            ["bench", "catalog", "--sizes", "400", "--repeats", "1", "--scratch", scratch.path, "--output", "json"],
            stateDirectory: scratch.appendingPathComponent("unused"))
        #expect(outcome.status == 0, "\(outcome.stderr)")
        let result = try JSONDecoder().decode(Result.self, from: Data(outcome.stdout.utf8))
        #expect(result.sizes == [400])
        #expect(result.calls.count == 10)
        for call in result.calls {
            #expect((call.seconds.first ?? nil).map { $0 > 0 } == true, "\(call.name) was timed")
        }
        let bytes = Dictionary(uniqueKeysWithValues: result.calls.map { ($0.name, ($0.bytes.first ?? nil) ?? 0) })
        // 400 snapshots listed in full; the batch filter answers 100 of them.
        #expect((bytes["GET /api/snapshots (all)"] ?? 0) > 400 * 300)
        let filtered = bytes["EC2 DescribeSnapshots tag:batch=… (100)"] ?? 0
        #expect(filtered > 100 * 300 && filtered < 100 * 2000)
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: scratch.path)) ?? []
        #expect(leftovers.filter { $0.hasPrefix("catalog-") }.isEmpty, "the filled lab is removed: \(leftovers)")
    }
}
