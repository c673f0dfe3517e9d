import Foundation
import Testing

@testable import SnaplabCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The plot's axes: disk sizes on a log scale for a size sweep; the variants, unjoined, for a variant sweep.
@Suite struct BootPlotTests {
    func record(size: UInt64, variant: String, repeatIndex: Int, fsckSeconds: Double) -> BootRecord {
        BootRecord(
            bootSize: size, fillPercent: 50, smallFiles: 100, variant: variant, fsck: .force,
            repeatIndex: repeatIndex, allocatedBytes: size / 2,
            phases: [
                "defined": 0.01, "start-returned": 0.3, "started-event": 0.3, "kernel-start": 2.9,
                "initramfs": 4.7, "fsck-start": 5.2, "fsck-end": 5.2 + fsckSeconds,
                "root-mounted": 5.3 + fsckSeconds, "ready": 5.6 + fsckSeconds,
            ])
    }

    func texts(_ svg: String) throws -> (texts: [String], polylines: Int) {
        let document = try XMLDocument(xmlString: svg)
        let texts = try document.nodes(forXPath: "//*[local-name()='text']").compactMap(\.stringValue)
        return (texts, try document.nodes(forXPath: "//*[local-name()='polyline']").count)
    }

    @Test func aSizeSweepPlotsAgainstDiskSizeWithJoinedMedians() throws {
        let records = [256 << 20, 4 << 30].flatMap { size in
            (0..<2).map { record(size: UInt64(size), variant: "default", repeatIndex: $0, fsckSeconds: 0.2) }
        }
        let (texts, polylines) = try texts(BootPlot.svg(records))
        #expect(texts.contains("boot disk size (log scale)"))
        #expect(texts.contains("256 MiB") && texts.contains("4 GiB"))
        #expect(polylines == BootPlot.plotted.count, "one line per phase for the one fill level")
    }

    @Test func aVariantSweepAtOneSizePlotsEachVariant() throws {
        let records = ["default", "no-csum"].enumerated().flatMap { index, variant in
            (0..<3).map { record(size: 4 << 30, variant: variant, repeatIndex: $0, fsckSeconds: 0.3 + Double(index)) }
        }
        let (texts, polylines) = try texts(BootPlot.svg(records))
        #expect(texts.contains("filesystem variant (4 GiB boot disk)"))
        #expect(texts.contains("default") && texts.contains("no-csum"))
        #expect(polylines == 0, "variants are categories: medians are not joined")
        #expect(texts.contains { $0.contains("6 boots") })
    }
}
