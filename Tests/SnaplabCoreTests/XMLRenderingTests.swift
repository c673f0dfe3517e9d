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

    /// UEFI: OVMF's code read-only and a variable store copied per domain from the empty template; no kernel.
    /// The seed is the last virtio disk, read-only; the NIC forwards only 127.0.0.1's port to the guest's 22.
    @Test func firmwareBootSeedAndNetworkRender() throws {
        let xml = DomainXML(
            name: "i-0123456789abcdef0", memoryMiB: 1024, vcpus: 2, firmware: .uefi, kernel: "", initrd: "",
            cmdline: "", disks: [.init(path: "/pool/boot.qcow2", device: "vda", serial: "vol-1")],
            seedPath: "/state/seeds/i-0123456789abcdef0-cidata.iso", sshPort: 40022, consolePath: "/c/i.log",
            labStateDirectory: "/state"
        ).render()
        let document = try XMLDocument(xmlString: xml)
        #expect(try document.nodes(forXPath: "/domain/os/kernel").isEmpty)
        #expect(try document.nodes(forXPath: "/domain/os/loader").first?.stringValue == DomainXML.uefiCode)
        #expect(
            try document.nodes(forXPath: "/domain/os/nvram/@template").first?.stringValue
                == DomainXML.uefiVariablesTemplate)
        let seed = try #require(try document.nodes(forXPath: "/domain/devices/disk[target/@dev='vdz']").first)
        #expect(try seed.nodes(forXPath: "readonly").count == 1)
        #expect(try seed.nodes(forXPath: "driver/@type").first?.stringValue == "raw")
        let arguments = try document.nodes(forXPath: "/domain/*[local-name()='commandline']/*/@value")
            .compactMap(\.stringValue)
        #expect(arguments.contains("user,id=snapnet0,hostfwd=tcp:127.0.0.1:40022-:22"))

        let bios = try XMLDocument(
            xmlString: DomainXML(
                name: "i-1", memoryMiB: 256, vcpus: 1, firmware: .bios, kernel: "", initrd: "", cmdline: "",
                disks: [], consolePath: "/c", labStateDirectory: "/s"
            ).render())
        #expect(try bios.nodes(forXPath: "/domain/os/loader").isEmpty)
        #expect(try bios.nodes(forXPath: "/domain/os/boot/@dev").first?.stringValue == "hd")
        #expect(try bios.nodes(forXPath: "/domain/*[local-name()='commandline']").isEmpty)
    }

    @Test func noCloudSeedNamesTheInstanceAndCarriesTheKeys() {
        let seed = NoCloudSeed(
            instanceId: "i-0123456789abcdef0",
            customization: GuestCustomization(sshPublicKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me@host"]))
        #expect(seed.metaData.contains("instance-id: i-0123456789abcdef0\n"))
        #expect(seed.metaData.contains("  - \"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me@host\"\n"))
        #expect(throws: SnaplabError.self) {
            try GuestCustomization(sshPublicKeys: ["not a key"]).validate()
        }
        #expect(throws: SnaplabError.self) {
            try GuestCustomization(userData: Data(count: GuestCustomization.maximumUserData + 1)).validate()
        }
    }

    @Test func labFileCarriesUserDataAndKeys() throws {
        let spec = try EnvironmentSpec.parse(
            """
            name: env
            instances:
              - name: web
                image: debian-12
                user-data: |
                  #cloud-config
                  runcmd: [[touch, /tmp/x]]
                ssh-authorized-keys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA me@host"]
            """)
        let customization = try #require(spec.members.first?.customization)
        #expect(String(decoding: customization.userData ?? Data(), as: UTF8.self).hasPrefix("#cloud-config\n"))
        #expect(customization.sshPublicKeys.count == 1)
        #expect(throws: SnaplabError.self) {
            try EnvironmentSpec.parse(
                "name: env\ninstances:\n  - name: web\n    image: x\n    ssh-authorized-keys: [\"oops\"]\n")
        }
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
