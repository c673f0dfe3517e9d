import Foundation
import SnaplabCore
import Testing

#if canImport(FoundationXML)
    import FoundationXML
#endif

extension RealGuestTests {
    /// The boot bench end to end on real guests: a small sweep, its CSV and its plot.
    @Suite struct BootBenchTests {
        @Test func aSmallSweepRecordsOrderedPhasesFromBothSides() async throws {
            try await TestLab.with { testLab in
                let sweep = BootSweep(sizes: [256 << 20, 512 << 20], fills: [0], modes: [.force, .skip], repeats: 1)
                let recipe = try ImageRecipe(
                    directory: ImageFixture.repositoryRoot.appendingPathComponent("images/tiny"))
                let records = try await BootBench(lab: testLab.lab).runSweep(sweep, recipe: recipe) { _, _, _ in }
                #expect(records.count == 4)
                let kept = try BootRunArchive.list(in: testLab.lab.paths)
                #expect(kept.map(\.boots) == [4], "the lab keeps the run for the control screen")
                #expect(try BootRunArchive.records(of: kept[0].name, in: testLab.lab.paths) == records)
                #expect(records.allSatisfy { $0.error == nil }, "\(records.compactMap(\.error))")

                let csv = BootReport.csv(records).split(separator: "\n").map {
                    $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
                }
                let header = try #require(csv.first)
                let rows = csv.dropFirst()
                #expect(rows.count == 4, "one row per boot")
                func value(_ row: [String], _ column: String) -> Double? {
                    header.firstIndex(of: column).flatMap { Double(row[$0]) }
                }
                let ordered = [
                    "defined", "start_returned", "kernel_start", "initramfs", "fsck_start", "fsck_end",
                    "root_mounted", "data_mounted", "ready", "shutdown_requested", "shutdown_event", "stopped",
                ]
                for row in rows {
                    let times = ordered.compactMap { value(row, $0) }
                    #expect(times.allSatisfy { $0 >= 0 }, "non-negative: \(row)")
                    #expect(times == times.sorted(), "in boot order: \(zip(ordered, times).map { "\($0.0)=\($0.1)" })")
                    let started = try #require(value(row, "started_event"))
                    let kernel = try #require(value(row, "kernel_start"))
                    let returned = try #require(value(row, "start_returned"))
                    #expect(started <= kernel)
                    // Firmware and loading the kernel take a while: the guest's clock starts after the start call.
                    #expect(
                        kernel > returned + 0.1, "kernel start \(kernel) must come after the start call \(returned)")
                    let mode = row[header.firstIndex(of: "fsck") ?? 0]
                    if mode == "force" {
                        #expect(
                            value(row, "fsck_start") != nil && value(row, "fsck_end") != nil, "fsck phase when forced")
                        #expect(["0", "1"].contains(row[header.firstIndex(of: "fsck_status") ?? 0]))
                    } else {
                        #expect(
                            value(row, "fsck_start") == nil && value(row, "fsck_end") == nil,
                            "no fsck phase when skipped")
                    }
                    #expect(value(row, "ready") != nil && value(row, "stopped") != nil)
                }

                let svg = BootPlot.svg(records)
                let document = try XMLDocument(xmlString: svg)
                let texts = try document.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
                #expect(texts.contains("boot disk size (log scale)") && texts.contains("seconds"))
                #expect(texts.contains("fsck: force") && texts.contains("fsck: skip"))
                #expect(texts.contains("256 MiB") && texts.contains("512 MiB"))
                #expect(try document.nodes(forXPath: "//*[local-name()='polyline']").count >= 4)
            }
        }
    }
}
