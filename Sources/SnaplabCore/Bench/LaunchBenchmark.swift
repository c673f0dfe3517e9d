import Foundation

/// `snaplab bench launch`: images from a small and a large (mostly allocated) boot volume; the time from the
/// launch call to a started domain, for the first launch on the host (which hydrates the base) and later ones
/// (an overlay each). Next to the first launch: how fast its hydration ran, against a restore of the same
/// snapshot into a volume (page cache dropped before both when root). Before all of them, a lazy launch of the
/// never-hydrated image (see `LazyFigures`).
public struct LaunchBenchmark: Sendable {
    public struct Row: Sendable, Codable {
        public var bootSize: UInt64
        public var allocatedBytes: UInt64
        public var firstLaunchSeconds: Double
        public var laterLaunchSeconds: [Double]
        /// The first launch's hydration of the base, and a restore of the same snapshot.
        public var hydrationSeconds: Double
        public var restoreSeconds: Double
        public var lazy: LazyFigures

        public var hydrationMBps: Double { Double(allocatedBytes) / hydrationSeconds / 1e6 }
        public var restoreMBps: Double { Double(allocatedBytes) / restoreSeconds / 1e6 }
        /// Hydration rate over restore rate (the data plane's goal: at least 0.9).
        public var hydrationVersusRestore: Double { restoreSeconds / hydrationSeconds }

        public var laterMedian: Double {
            let sorted = laterLaunchSeconds.sorted()
            return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
        }
    }

    public struct Result: Sendable, Codable {
        public var rows: [Row]
        /// Median later launch of the large image over the small one's.
        public var largeVersusSmall: Double
    }

    public let lab: Lab
    public let recipe: ImageRecipe
    public let sizes: [(UInt64, Int)]
    public let laterLaunches: Int
    public let log: @Sendable (String) -> Void

    public init(
        lab: Lab, recipe: ImageRecipe, sizes: [(UInt64, Int)] = [(256 << 20, 0), (4 << 30, 80)],
        laterLaunches: Int = 5, log: @escaping @Sendable (String) -> Void
    ) {
        self.lab = lab
        self.recipe = recipe
        self.sizes = sizes
        self.laterLaunches = laterLaunches
        self.log = log
    }

    public func run() async throws(SnaplabError) -> Result {
        var rows: [Row] = []
        for (size, fill) in sizes {
            log("building a \(ByteSize.format(size)) boot volume filled to \(fill) %…")
            let build = try await recipe.build(
                ImageRecipe.Parameters(bootSize: size, fillPercent: fill),
                cache: lab.paths.imageCache)
            let volume = try await lab.volumes.createBoot(from: build, tags: ["bench": "launch"])
            let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volume.id).id)
            guard snapshot.state == .completed else {
                throw SnaplabError(.io, "snapshot failed: \(snapshot.errorMessage ?? "")")
            }
            let image = try await lab.images.register(
                ImageRegistration(name: "bench-\(size)", bootSnapshotId: snapshot.id))
            let hasFill = size / 100 * UInt64(fill) / (64 << 20) >= 4
            let lazy = try await lazyLaunch(image: image, snapshotId: snapshot.id, hasFill: hasFill)
            var start = ContinuousClock.now
            var times: [Double] = []
            var hydrationSeconds = 0.0
            var launched: [String] = []
            do throws(SnaplabError) {
                for round in 0...laterLaunches {
                    log(round == 0 ? "first launch (hydrates the base)…" : "launch \(round + 1)…")
                    if round == 0 { BenchSystem.dropPageCache() }
                    start = ContinuousClock.now
                    if round == 0 {
                        // The launch below would hydrate the base first: do it here, to time it on its own.
                        _ = try await lab.bases.ensure(
                            snapshotId: snapshot.id,
                            host: try await lab.catalog.host(named: lab.defaultHostName))
                        sync()
                        hydrationSeconds = (ContinuousClock.now - start).inSeconds
                    }
                    let instance = try await lab.images.launch(
                        ImageLaunchRequest(image: image.id, waitUntilReady: false, lazy: false))
                    times.append((ContinuousClock.now - start).inSeconds)
                    launched += instance.map(\.id)
                    // Keep one guest at a time: the next launch should not compete with a booting one.
                    for id in instance.map(\.id) { _ = try await lab.instances.terminate(id) }
                }
            } catch {
                for id in launched { _ = try? await lab.instances.terminate(id) }
                throw error
            }
            // After the launches, not before: deleting a just-restored volume keeps the disk busy discarding.
            log("restoring the boot snapshot into a volume (the rate hydration is measured against)…")
            BenchSystem.dropPageCache()
            start = ContinuousClock.now
            let restored = try await lab.snapshots.restore(snapshot.id)
            sync()
            let restoreSeconds = (ContinuousClock.now - start).inSeconds
            try await lab.volumes.delete(restored.id)
            let hydrated = try await hydratedReadyLaunch(image: image, hasFill: hasFill)
            let figures = LazyFigures(
                launchSeconds: lazy.launch, readySeconds: lazy.ready, readSeconds: lazy.read,
                independentSeconds: lazy.independent, hydratedReadySeconds: hydrated.ready,
                hydratedReadSeconds: hydrated.read, digestsMatch: lazy.digest == hydrated.digest)
            rows.append(
                Row(
                    bootSize: size, allocatedBytes: snapshot.allocatedBytes, firstLaunchSeconds: times[0],
                    laterLaunchSeconds: Array(times.dropFirst()), hydrationSeconds: hydrationSeconds,
                    restoreSeconds: restoreSeconds, lazy: figures))
            _ = try await lab.images.deregister(image.id)
            try await lab.snapshots.delete(snapshot.id)
            try await lab.volumes.delete(volume.id)
        }
        _ = try? await lab.store.collectGarbage()
        let small = rows.first?.laterMedian ?? 1
        let large = rows.last?.laterMedian ?? 1
        return Result(rows: rows, largeVersusSmall: large / max(small, 1e-6))
    }
}
