import Foundation
import Testing

@testable import SnaplabCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

@Suite struct XMLRenderingTests {
    @Test func domainXMLIsWellFormedAndEscaped() throws {
        let xml = DomainXML(
            name: "i-0123456789abcdef0", memoryMiB: 256, vcpus: 2, kernel: "/k/vmlinuz", initrd: "/k/initrd.img",
            cmdline: "console=ttyS0 a<b&c",
            disks: [
                .init(path: "/pool/boot.qcow2", device: "vda", serial: "vol-1"),
                .init(path: "/pool/data's.qcow2", device: "vdb", serial: "vol-2"),
            ], consolePath: "/c/i.log", labStateDirectory: "/state"
        ).render()
        let document = try XMLDocument(xmlString: xml)
        let root = try #require(document.rootElement())
        #expect(root.attribute(forName: "type")?.stringValue == "qemu")
        #expect(try document.nodes(forXPath: "/domain/os/cmdline").first?.stringValue == "console=ttyS0 a<b&c")
        let targets = try document.nodes(forXPath: "/domain/devices/disk/target/@dev").compactMap(\.stringValue)
        #expect(targets == ["vda", "vdb"])
        #expect(
            try document.nodes(forXPath: "/domain/devices/disk/source/@file").last?.stringValue == "/pool/data's.qcow2")
        #expect(
            try document.nodes(forXPath: "/domain/devices/channel/target/@name").first?.stringValue
                == "org.qemu.guest_agent.0")
        #expect(try document.nodes(forXPath: "/domain/features/acpi").count == 1)
        #expect(try document.nodes(forXPath: "/domain/on_poweroff").first?.stringValue == "destroy")
    }

    @Test func volumeXMLAlwaysAsksForCompat11() throws {
        let plain = try XMLDocument(xmlString: VolumeXML(name: "v.qcow2", capacity: 1 << 30).render())
        #expect(try plain.nodes(forXPath: "/volume/target/compat").first?.stringValue == "1.1")
        #expect(try plain.nodes(forXPath: "/volume/target/format/@type").first?.stringValue == "qcow2")
        #expect(try plain.nodes(forXPath: "/volume/backingStore").isEmpty)
        let overlay = try XMLDocument(
            xmlString: VolumeXML(
                name: "o.qcow2", capacity: 1 << 30,
                backingPath: "/base.qcow2"
            ).render())
        #expect(try overlay.nodes(forXPath: "/volume/backingStore/path").first?.stringValue == "/base.qcow2")
    }
}
