import Foundation

/// `snaplab bench boot`: boots the same OS from boot disks of several sizes, fill levels and filesystem
/// variants, with the boot-time check forced, automatic or skipped, several times each.
public struct BootSweep: Sendable {
    public struct Variant: Sendable, Equatable {
        public var name: String
        /// Extra mke2fs options, e.g. `-O ^metadata_csum` or `-i 65536`.
        public var mkfsOptions: String

        public init(name: String, mkfsOptions: String) {
            self.name = name
            self.mkfsOptions = mkfsOptions
        }
    }

    public var sizes: [UInt64]
    /// Percent of the filesystem filled with 64 MiB files (0: empty).
    public var fills: [Int]
    /// Small files added to every filled (fill > 0) disk.
    public var smallFiles: Int
    public var modes: [FsckMode]
    public var variants: [Variant]
    public var repeats: Int
    /// Boot by this instead of the image's own way (a firmware-booted disk keeps its loader's command line, so
    /// fsck modes other than auto need direct boot).
    public var firmware: Firmware?
    /// Also boot each disk once lazily from a never-launched image (a second snapshot of it), before any base.
    public var lazyFirstLaunch = false

    public init(
        sizes: [UInt64] = [256 << 20, 1 << 30, 4 << 30, 16 << 30], fills: [Int] = [0, 50],
        smallFiles: Int = 20_000, modes: [FsckMode] = [.skip, .auto, .force],
        variants: [Variant] = [Variant(name: "default", mkfsOptions: "")], repeats: Int = 3
    ) {
        self.sizes = sizes
        self.fills = fills
        self.smallFiles = smallFiles
        self.modes = modes
        self.variants = variants
        self.repeats = repeats
    }

    public var bootCount: Int {
        sizes.count * fills.count * variants.count * (modes.count * repeats + (lazyFirstLaunch ? 1 : 0))
    }

    /// Every disk the sweep boots, in sweep order: its variant and the recipe parameters that build it.
    var disks: [(variant: Variant, parameters: ImageRecipe.Parameters)] {
        variants.flatMap { variant in
            sizes.flatMap { size in
                fills.map { fill in
                    (
                        variant,
                        ImageRecipe.Parameters(
                            bootSize: size, mkfsOptions: variant.mkfsOptions,
                            fillPercent: fill, smallFiles: fill > 0 ? smallFiles : 0)
                    )
                }
            }
        }
    }
}

extension BootBench {
    /// Runs the sweep; `progress` gets (boots done, total, last record). Every image is built by the recipe
    /// (cached), snapshotted and registered, and launched as an overlay, so each boot starts from the same disk.
    public func runSweep(
        _ sweep: BootSweep, recipe: ImageRecipe,
        progress: @Sendable (Int, Int, BootRecord?) -> Void
    ) async throws(SnaplabError)
        -> [BootRecord]
    {
        var records: [BootRecord] = []
        progress(0, sweep.bootCount, nil)
        // Every disk is built (or found in the cache) before the first boot, so a bad variant (mke2fs options
        // that cannot hold the fill) fails the sweep at once instead of after an hour of boots.
        var builds: [ImageBuild] = []
        for disk in sweep.disks {
            builds.append(try await recipe.build(disk.parameters, cache: lab.paths.imageCache))
        }
        for ((variant, parameters), build) in zip(sweep.disks, builds) {
            let (size, fill, small) = (parameters.bootSize, parameters.fillPercent, parameters.smallFiles)
            let volume = try await lab.volumes.createBoot(from: build, tags: ["bench": "boot"])
            var snapshotId: String?
            var imageId: String?
            do throws(SnaplabError) {
                let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
                snapshotId = snapshot.id
                guard snapshot.state == .completed else {
                    throw SnaplabError(
                        .io,
                        "snapshot of the \(ByteSize.format(size)) disk failed: "
                            + (snapshot.errorMessage ?? "no reason recorded"))
                }
                let image = try await lab.images.register(
                    ImageRegistration(
                        name: "bench-boot-\(variant.name)-\(size)-\(fill)", bootSnapshotId: snapshot.id))
                imageId = image.id
                if sweep.lazyFirstLaunch {
                    var record = BootRecord(
                        bootSize: size, fillPercent: fill, smallFiles: small, variant: variant.name, fsck: .auto,
                        repeatIndex: 0, allocatedBytes: snapshot.allocatedBytes)
                    record.firmware = sweep.firmware ?? build.firmware
                    record.lazyFirstLaunch = true
                    await measureLazyFirstLaunch(of: volume, into: &record, sweep: sweep)
                    records.append(record)
                    progress(records.count, sweep.bootCount, record)
                }
                let hydrationStart = ContinuousClock.now
                try await lab.images.prepareLaunch(image: image.id)
                let hydration = (ContinuousClock.now - hydrationStart).inSeconds
                for mode in sweep.modes {
                    for repeatIndex in 0..<sweep.repeats {
                        var record = BootRecord(
                            bootSize: size, fillPercent: fill, smallFiles: small,
                            variant: variant.name, fsck: mode, repeatIndex: repeatIndex,
                            allocatedBytes: snapshot.allocatedBytes)
                        record.firmware = sweep.firmware ?? build.firmware
                        record.hydrationSeconds = hydration
                        do throws(SnaplabError) {
                            let measured = try await measureBoot(
                                imageId: image.id, fsck: mode, firmware: sweep.firmware)
                            record.phases = measured.phases
                            record.fsckStatus = measured.fsckStatus
                            record.systemd = measured.systemd
                        } catch {
                            record.error = error.message
                        }
                        records.append(record)
                        progress(records.count, sweep.bootCount, record)
                    }
                }
            } catch {
                if let imageId { _ = try? await lab.images.deregister(imageId) }
                if let snapshotId { _ = try? await lab.snapshots.delete(snapshotId) }
                try? await lab.volumes.delete(volume.id)
                throw error
            }
            if let imageId { _ = try await lab.images.deregister(imageId) }
            if let snapshotId { try await lab.snapshots.delete(snapshotId) }
            try await lab.volumes.delete(volume.id)
        }
        _ = try? await lab.store.collectGarbage(timeout: .seconds(60))
        try BootRunArchive.save(records, in: lab.paths)
        return records
    }

    /// One boot of a never-launched image: a second snapshot of the volume (deduplicated: it stores nothing new)
    /// has no base on the host, so the launch is lazy. Its image, snapshot and base go afterwards.
    private func measureLazyFirstLaunch(of volume: Volume, into record: inout BootRecord, sweep: BootSweep) async {
        var snapshotId: String?
        var imageId: String?
        do throws(SnaplabError) {
            let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
            snapshotId = snapshot.id
            let image = try await lab.images.register(
                ImageRegistration(name: "bench-boot-lazy-\(snapshot.id)", bootSnapshotId: snapshot.id))
            imageId = image.id
            let measured = try await measureBoot(imageId: image.id, fsck: .auto, firmware: sweep.firmware, lazy: true)
            record.phases = measured.phases
            record.systemd = measured.systemd
        } catch {
            record.error = error.message
        }
        if let imageId { _ = try? await lab.images.deregister(imageId) }
        if let snapshotId {
            // The export service may still hydrate the base it started; the snapshot goes once nothing reads it.
            let deadline = ContinuousClock.now + .seconds(600)
            while (try? await lab.snapshots.delete(snapshotId)) == nil, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}
