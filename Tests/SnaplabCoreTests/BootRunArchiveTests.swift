import Foundation
import Testing

@testable import SnaplabCore

@Suite struct BootRunArchiveTests {
    @Test func keepsRunsNewestFirstAndRefusesNamesOutsideItsDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("boot-runs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let paths = LabPaths(stateDirectory: directory)
        #expect(try BootRunArchive.list(in: paths).isEmpty)
        var failed = BootRecord(
            bootSize: 1 << 30, fillPercent: 0, smallFiles: 0, variant: "default", fsck: .force, repeatIndex: 0,
            allocatedBytes: 1 << 20, phases: ["defined": 0, "ready": 1.5])
        failed.error = "no ready marker"
        let ok = BootRecord(
            bootSize: 256 << 20, fillPercent: 0, smallFiles: 0, variant: "default", fsck: .skip, repeatIndex: 0,
            allocatedBytes: 1 << 20, phases: ["defined": 0, "ready": 1.25])
        let day = Date(timeIntervalSince1970: 1_800_000_000)
        let older = try BootRunArchive.save([ok], in: paths, at: day)
        let newer = try BootRunArchive.save([ok, failed], in: paths, at: day.addingTimeInterval(60))
        let again = try BootRunArchive.save([ok], in: paths, at: day)
        #expect(older == "20270115T080000Z" && again == "20270115T080000Z-2")
        let runs = try BootRunArchive.list(in: paths)
        #expect(runs.map(\.name) == [newer, again, older])
        #expect(runs[0].boots == 2 && runs[0].failed == 1)
        #expect(runs[0].sizes == [256 << 20, 1 << 30] && runs[0].modes == ["force", "skip"])
        #expect(try BootRunArchive.records(of: newer, in: paths) == [ok, failed])
        for name in ["../catalog", "", "20270115T080000Z.json", "a/b"] {
            #expect(throws: SnaplabError.self) { try BootRunArchive.records(of: name, in: paths) }
        }
        #expect(throws: SnaplabError.self) { try BootRunArchive.records(of: "20990101T000000Z", in: paths) }
    }
}
