import ArgumentParser
import Foundation
import SnaplabCore

extension InstanceCommand {
    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Launch instances from an image, or one from a boot volume; returns once the guests are ready.")

        @OptionGroup var lab: LabOptions

        @Option(help: "The image (ami-… or name): boot and data volumes are overlays on its snapshots.")
        var image: String?

        @Option(help: "How many instances of the image.") var count = 1

        @Option(help: "The host to launch on (default: the one running the fewest instances).") var host: String?

        @Option(help: "Per data disk of the image, use this snapshot: DEVICE=snap-… (e.g. vdb=snap-…).")
        var dataSnapshot: [String] = []

        @Option(help: "The boot volume (vol-…), instead of an image.")
        var bootVolume: String?

        @Option(
            name: .customLong("data-volume"),
            help: "A data volume, VOL or VOL:delete-on-termination; repeat for more (vdb, vdc, …).")
        var dataVolumes: [String] = []

        @Option(help: "Memory in MiB (default: the image's, or 256).") var memory: Int?
        @Option(help: "Virtual CPUs (default: the image's, or 1).") var vcpus: Int?
        @Option(help: "Boot-disk check in the initramfs: force, auto or skip.") var fsck: FsckMode = .auto

        @Option(help: "Boot this kernel instead of the boot volume's.") var kernel: String?
        @Option(help: "Boot this initramfs instead of the boot volume's.") var initrd: String?
        @Option(help: "Kernel command line (with --kernel).") var cmdline = "console=ttyS0 quiet panic=-1"
        @Option(help: "Boot by direct, bios or uefi instead of what the image or boot volume says.")
        var firmware: Firmware?
        @Option(help: "A file of user data for cloud-init (a #cloud-config document, a script, …).")
        var userData: String?
        @Option(help: "An ssh public key (.pub file) for the image's default user; repeat for more.")
        var sshKey: [String] = []

        @Flag(help: "Keep the boot volume when the instance is terminated.") var keepBootVolume = false
        @Option(help: "Seconds to wait for the guest to be ready.") var timeout = 300
        @Option(name: .customLong("tag"), help: "KEY=VALUE; repeat for more.") var tags: [String] = []
        @Option var output: OutputFormat = .table
        @Flag(
            inversion: .prefixedNo,
            help: """
                Boot at once from the image's snapshots served by the export service while the host's bases hydrate \
                in the background (default: lazily when this host has no base of the image yet).
                """)
        var lazy: Bool?
        @Option(help: "Bound a lazy launch's background hydration, in bytes per second (e.g. 200M).")
        var pullRate: String?

        func validate() throws {
            if (image == nil) == (bootVolume == nil) { throw ValidationError("give --image or --boot-volume") }
            if image == nil, lazy != nil || pullRate != nil {
                throw ValidationError("--lazy and --pull-rate go with --image")
            }
            if lazy == false, pullRate != nil { throw ValidationError("--pull-rate goes with a lazy launch") }
            if let pullRate { _ = try ByteSize.parse(pullRate) }
            if image != nil, !dataVolumes.isEmpty || kernel != nil {
                throw ValidationError("--data-volume and --kernel go with --boot-volume; an image brings its own")
            }
            if bootVolume != nil, count != 1 || !dataSnapshot.isEmpty {
                throw ValidationError("--count and --data-snapshot go with --image")
            }
            _ = try Self.parseDataSnapshots(dataSnapshot)
            if (kernel == nil) != (initrd == nil) { throw ValidationError("give --kernel and --initrd together") }
            _ = try Self.parseDataVolumes(dataVolumes)
            _ = try TagParser.parse(tags)
            if timeout < 1 { throw ValidationError("--timeout must be at least 1 second") }
        }

        /// User data and keys from their files; nil when neither was given.
        func customization() throws -> GuestCustomization? {
            guard userData != nil || !sshKey.isEmpty else { return nil }
            let read = { (path: String) throws -> Data in
                guard let data = FileManager.default.contents(atPath: path) else {
                    throw ValidationError("cannot read \(path)")
                }
                return data
            }
            let keys = try sshKey.map { path in
                String(decoding: try read(path), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            }
            return GuestCustomization(userData: try userData.map(read), sshPublicKeys: keys)
        }

        static func parseDataVolumes(_ specs: [String]) throws -> [LaunchRequest.DataVolume] {
            try specs.map { spec in
                let parts = spec.split(separator: ":", maxSplits: 1).map(String.init)
                switch parts.count {
                case 1: return LaunchRequest.DataVolume(volumeId: parts[0])
                case 2 where parts[1] == "delete-on-termination":
                    return LaunchRequest.DataVolume(volumeId: parts[0], deleteOnTermination: true)
                default: throw ValidationError("'\(spec)' is not VOL or VOL:delete-on-termination")
                }
            }
        }

        static func parseDataSnapshots(_ specs: [String]) throws -> [String: String] {
            var result: [String: String] = [:]
            for spec in specs {
                let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
                guard parts.count == 2, parts[0].hasPrefix("vd"), parts[1].hasPrefix("snap-") else {
                    throw ValidationError("'\(spec)' is not DEVICE=snap-… (e.g. vdb=snap-0123…)")
                }
                result[parts[0]] = parts[1]
            }
            return result
        }

        func run() async throws {
            let lab = try await lab.openLab()
            let instances: [Instance]
            if let image {
                var request = ImageLaunchRequest(
                    image: image, count: count, memoryMiB: memory, vcpus: vcpus, fsck: fsck,
                    dataSnapshots: try Self.parseDataSnapshots(dataSnapshot), tags: try TagParser.parse(tags),
                    readyTimeout: .seconds(timeout))
                request.host = host
                request.lazy = lazy
                request.pullRate = try pullRate.map { rate throws(SnaplabError) in try ByteSize.parse(rate) }
                request.firmware = firmware
                request.customization = try customization()
                instances = try await lab.images.launch(request)
            } else {
                let override = kernel.map { BootSettings(kernel: $0, initrd: initrd ?? "", cmdline: cmdline) }
                var request = LaunchRequest(
                    bootVolumeId: bootVolume ?? "", dataVolumes: try Self.parseDataVolumes(dataVolumes),
                    memoryMiB: memory ?? 256, vcpus: vcpus ?? 1, fsck: fsck, bootOverride: override,
                    deleteBootOnTermination: !keepBootVolume, tags: try TagParser.parse(tags),
                    readyTimeout: .seconds(timeout))
                request.firmware = firmware
                request.customization = try customization()
                instances = [try await lab.instances.run(request)]
            }
            if output == .json { return try Printer.json(instances) }
            for instance in instances { print(instance.id) }
        }
    }
}
