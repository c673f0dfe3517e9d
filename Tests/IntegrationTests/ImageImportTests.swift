import Foundation
import SnaplabCore
import Testing

extension RealGuestTests {
    /// `image import`: a disk image the user has becomes a machine image that boots; files that would make qemu
    /// read other host files (backing files, external data files, `json:` names) are refused and leave nothing.
    @Suite struct ImageImportTests {
        @Test func anImportedDiskBootsAndFilesPointingElsewhereAreRefused() async throws {
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let build = try await ImageFixture.shared.build()
                let boot = BootSettings(kernel: build.kernel.path, initrd: build.initrd.path, cmdline: build.cmdline)
                let image = try await lab.images.importImage(
                    ImageImportRequest(file: build.bootImage, format: "qcow2", name: "imported", boot: boot))
                #expect(image.state == .available)
                #expect(try await lab.volumes.list().isEmpty, "the import's volume goes; its snapshot stays")
                let instance = try #require(try await lab.images.launch(ImageLaunchRequest(image: image.id)).first)
                #expect(try await testLab.shell(instance.id, "echo imported-and-booted") == "imported-and-booted\n")

                // The same disk as raw imports as well (the format is the one named).
                let raw = testLab.directory.appendingPathComponent("disk.raw")
                _ = try HostTools.run(
                    "/usr/bin/qemu-img", ["convert", "-f", "qcow2", "-O", "raw", build.bootImage.path, raw.path])
                let fromRaw = try await lab.images.importImage(
                    ImageImportRequest(file: raw, format: "raw", name: "imported-raw", boot: boot))
                #expect(fromRaw.state == .available)

                let hostile = testLab.directory.appendingPathComponent("hostile", isDirectory: true)
                try FileManager.default.createDirectory(at: hostile, withIntermediateDirectories: true)
                let backed = hostile.appendingPathComponent("backed.qcow2")
                _ = try HostTools.run(
                    "/usr/bin/qemu-img",
                    ["create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", backed.path, "64M"])
                let external = hostile.appendingPathComponent("external.qcow2")
                _ = try HostTools.run(
                    "/usr/bin/qemu-img",
                    [
                        "create", "-q", "-f", "qcow2", "-o", "data_file=\(hostile.path)/external.data", external.path,
                        "64M",
                    ])
                let text = hostile.appendingPathComponent("notes.qcow2")
                try Data("not a disk image\n".utf8).write(to: text)
                let cases: [(URL, String, String)] = [
                    (backed, "qcow2", "backing file"),
                    (external, "qcow2", "external file"),
                    (URL(fileURLWithPath: "json:{\"driver\":\"file\",\"filename\":\"/etc/shadow\"}"), "raw", "json:"),
                    (text, "qcow2", "failed"),
                    (backed, "vmdk", "not one of"),
                ]
                let imagesBefore = try await lab.images.list().count
                for (file, format, reason) in cases {
                    await #expect {
                        _ = try await lab.images.importImage(
                            ImageImportRequest(file: file, format: format, name: "refused", boot: boot))
                    } throws: { error in
                        guard let error = error as? SnaplabError else { return false }
                        return error.code == .invalidArgument && error.message.contains(reason)
                    }
                }
                #expect(try await lab.images.list().count == imagesBefore, "no image from a refused file")
                #expect(
                    try await lab.volumes.list().allSatisfy { $0.instanceId == instance.id },
                    "no volume left from a refused file")
                let scratch = testLab.directory.appendingPathComponent("imports").path
                #expect((try? FileManager.default.contentsOfDirectory(atPath: scratch))?.isEmpty ?? true)
            }
        }
    }
}
