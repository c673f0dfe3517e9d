import Foundation
import SnaplabCore
import Testing

/// The Debian 12 guest (images/debian-12), built once per recipe hash into the shared image cache.
actor DebianImageFixture {
    static let shared = DebianImageFixture()
    private var built: [[String]: ImageBuild] = [:]

    /// The recipe's disk (2 GiB), with `extraPackages` installed too.
    func build(extraPackages: [String] = []) async throws -> ImageBuild {
        if let build = built[extraPackages] { return build }
        let recipe = try ImageRecipe(directory: ImageFixture.repositoryRoot.appendingPathComponent("images/debian-12"))
        let build = try await recipe.build(
            ImageRecipe.Parameters(bootSize: 2 << 30, extraPackages: extraPackages), cache: ImageFixture.cache)
        built[extraPackages] = build
        return build
    }
}

extension RealGuestTests {
    /// A real distribution end to end: the recipe's disk imported as an untrusted file, two instances with their
    /// own user data (one by UEFI firmware, one by direct kernel boot), ssh through the forwarded port, a data
    /// disk written in the guest, and a fresh instance from an image made of the instance that holds it.
    @Suite struct DebianGuestTests {
        static let markerPath = "/var/lib/snaplab-marker"

        @Test func importLaunchCustomizeReachAndRelaunchDebian() async throws {
            try #require(FileManager.default.isExecutableFile(atPath: CommandLineTests.binary.path))
            let build = try await DebianImageFixture.shared.build()
            #expect(build.firmware == .uefi)
            try await TestLab.with { testLab in
                let lab = testLab.lab
                let imported = try CommandLineTests.runBinary(
                    [
                        "image", "import", build.bootImage.path, "--format", "qcow2", "--name", "debian-12",
                        "--firmware", "uefi", "--kernel", build.kernel.path, "--initrd", build.initrd.path,
                        "--cmdline", build.cmdline, "--memory", "1024", "--vcpus", "2",
                    ], stateDirectory: testLab.directory)
                try #require(imported.status == 0, "image import failed: \(imported.stderr)")
                let imageId = imported.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                #expect(try await lab.images.get(imageId).bootFirmware == .uefi)

                let key = testLab.directory.appendingPathComponent("id_ed25519")
                try HostTools.run("/usr/bin/ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key.path])
                let publicKey = try String(contentsOfFile: key.path + ".pub", encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)

                // A: UEFI (the image's own firmware), a shell script as user data, and the ssh key.
                var first = ImageLaunchRequest(image: imageId, readyTimeout: .seconds(600))
                first.customization = GuestCustomization(
                    userData: Data("#!/bin/sh\necho alpha > \(Self.markerPath)\n".utf8), sshPublicKeys: [publicKey])
                let alpha = try #require(try await lab.images.launch(first).first)
                // B: direct kernel boot of the same disk, a cloud-config as user data.
                var second = ImageLaunchRequest(image: imageId, readyTimeout: .seconds(600))
                second.firmware = .direct
                second.customization = GuestCustomization(
                    userData: Data(
                        "#cloud-config\nruncmd:\n  - [sh, -c, \"echo beta > \(Self.markerPath)\"]\n".utf8))
                let beta = try #require(try await lab.images.launch(second).first)
                #expect(alpha.sshPort != nil && alpha.sshPort != beta.sshPort)

                #expect(try await marker(in: alpha.id, lab: lab) == "alpha")
                #expect(try await marker(in: beta.id, lab: lab) == "beta")
                #expect(try await testLab.shell(alpha.id, "test -d /sys/firmware/efi && echo efi") == "efi\n")
                #expect(try await testLab.shell(beta.id, "test -d /sys/firmware/efi || echo bios") == "bios\n")
                #expect(try await testLab.shell(alpha.id, "hostname") == "\(alpha.id)\n")

                let ssh = try await sshUntilAnswered(
                    alpha.id, key: key, command: "cat \(Self.markerPath); id -un", testLab: testLab)
                #expect(ssh == "alpha\ndebian\n")

                // A data disk written in A, then an image made of A (boot and data snapshotted at one instant).
                let data = try await lab.volumes.create(role: .data, size: 256 << 20)
                _ = try await lab.instances.attach(data.id, to: alpha.id)
                // The guest names a virtio disk by its serial, the volume id cut to virtio's 20 bytes.
                let device = "/dev/disk/by-id/virtio-\(data.id.prefix(20))"
                _ = try await testLab.shell(
                    alpha.id,
                    """
                    for try in $(seq 60); do [ -b \(device) ] && break; sleep 1; done
                    mkfs.ext4 -q -L snapdata \(device) && mkdir -p /mnt/data && mount LABEL=snapdata /mnt/data \
                        && echo gamma > /mnt/data/marker && sync
                    """)
                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: data.id).id)
                #expect(snapshot.state == .completed)
                #expect(snapshot.consistency == .fsFrozen)

                let image = try await lab.images.create(fromInstance: alpha.id, name: "debian-with-data")
                #expect(image.bootFirmware == .uefi && image.blockDeviceMappings.count == 1)
                var third = ImageLaunchRequest(image: image.id, readyTimeout: .seconds(600))
                third.customization = GuestCustomization(sshPublicKeys: [publicKey])
                let fresh = try #require(try await lab.images.launch(third).first)
                let copied = try await testLab.shell(
                    fresh.id,
                    """
                    for try in $(seq 60); do blkid -L snapdata > /dev/null && break; sleep 1; done
                    mkdir -p /mnt/data && mount LABEL=snapdata /mnt/data && cat /mnt/data/marker
                    """)
                #expect(copied == "gamma\n")
                #expect(try await testLab.shell(fresh.id, "test -d /sys/firmware/efi && echo efi") == "efi\n")
            }
        }

        /// The marker the instance's user data writes (cloud-init runs it after the agent is up): polled.
        private func marker(in instance: String, lab: Lab) async throws -> String {
            let deadline = ContinuousClock.now + .seconds(300)
            while true {
                let result = try await lab.instances.exec(instance, ["cat", Self.markerPath], timeout: .seconds(60))
                if result.exitCode == 0 { return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) }
                try #require(ContinuousClock.now < deadline, "\(instance) never wrote \(Self.markerPath)")
                try await Task.sleep(for: .seconds(2))
            }
        }

        /// `snaplab instance ssh`, retried until sshd (and cloud-init's key) are in place.
        private func sshUntilAnswered(_ instance: String, key: URL, command: String, testLab: TestLab)
            async throws -> String
        {
            let deadline = ContinuousClock.now + .seconds(300)
            while true {
                let outcome = try CommandLineTests.runBinary(
                    ["instance", "ssh", instance, "--identity", key.path, "--", command],
                    stateDirectory: testLab.directory)
                if outcome.status == 0 { return outcome.stdout }
                try #require(ContinuousClock.now < deadline, "ssh to \(instance) kept failing: \(outcome.stderr)")
                try await Task.sleep(for: .seconds(3))
            }
        }
    }
}
