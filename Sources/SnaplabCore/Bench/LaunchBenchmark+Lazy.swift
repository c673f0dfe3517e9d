import Foundation

extension LaunchBenchmark {
    /// A lazy launch of a never-hydrated image next to a launch on its hydrated base: seconds to a started
    /// domain and to `ready`, the guest's `sha256sum` of 256 MiB of the image (the first four fill files, when
    /// the image has them) right after `ready`, while the disk still reads through the export, and how long until
    /// the instance no longer needs the export.
    public struct LazyFigures: Sendable, Codable {
        public var launchSeconds: Double
        public var readySeconds: Double
        public var readSeconds: Double?
        public var independentSeconds: Double
        public var hydratedReadySeconds: Double
        public var hydratedReadSeconds: Double?
        /// The guest's digests on the lazy and the hydrated instance (equal, or the data is wrong).
        public var digestsMatch: Bool

        public var readyVersusHydrated: Double { readySeconds / hydratedReadySeconds }
        public var readVersusHydrated: Double? {
            guard let readSeconds, let hydratedReadSeconds else { return nil }
            return readSeconds / hydratedReadSeconds
        }
    }

    static let readScript = "cat /fill/large-0 /fill/large-1 /fill/large-2 /fill/large-3 | sha256sum"

    /// The lazy launch; leaves the host without the image's base again, so the hydrated first launch that
    /// follows starts cold.
    func lazyLaunch(image: MachineImage, snapshotId: String, hasFill: Bool) async throws(SnaplabError)
        -> (launch: Double, ready: Double, read: Double?, digest: String?, independent: Double)
    {
        log("lazy launch of the never-hydrated image…")
        BenchSystem.dropPageCache()
        let start = ContinuousClock.now
        let launched = try await lab.images.launch(
            ImageLaunchRequest(image: image.id, waitUntilReady: false, lazy: true))
        let launchSeconds = (ContinuousClock.now - start).inSeconds
        let ids = launched.map(\.id)
        do throws(SnaplabError) {
            _ = try await lab.instances.waitUntilRunning(ids, timeout: .seconds(600))
            let readySeconds = (ContinuousClock.now - start).inSeconds
            var read: (seconds: Double, digest: String)?
            if hasFill, let id = ids.first { read = try await timedRead(id) }
            while try await !lab.catalog.lazyVolumes(readingFrom: snapshotId).isEmpty {
                try? await Task.sleep(for: .milliseconds(200))
            }
            let independentSeconds = (ContinuousClock.now - start).inSeconds
            for id in ids { _ = try await lab.instances.terminate(id) }
            let host = try await lab.catalog.host(named: lab.defaultHostName)
            try await lab.bases.discard(snapshotId: snapshotId, host: host)
            return (launchSeconds, readySeconds, read?.seconds, read?.digest, independentSeconds)
        } catch {
            for id in ids { _ = try? await lab.instances.terminate(id) }
            throw error
        }
    }

    /// A launch on the hydrated base, waited for until `ready`, and the same read.
    func hydratedReadyLaunch(image: MachineImage, hasFill: Bool) async throws(SnaplabError)
        -> (ready: Double, read: Double?, digest: String?)
    {
        log("launch on the hydrated base, to ready…")
        BenchSystem.dropPageCache()
        let start = ContinuousClock.now
        let launched = try await lab.images.launch(ImageLaunchRequest(image: image.id, lazy: false))
        let readySeconds = (ContinuousClock.now - start).inSeconds
        var read: (seconds: Double, digest: String)?
        do throws(SnaplabError) {
            if hasFill, let id = launched.first?.id { read = try await timedRead(id) }
        } catch {
            for instance in launched { _ = try? await lab.instances.terminate(instance.id) }
            throw error
        }
        for instance in launched { _ = try await lab.instances.terminate(instance.id) }
        return (readySeconds, read?.seconds, read?.digest)
    }

    private func timedRead(_ instance: String) async throws(SnaplabError) -> (seconds: Double, digest: String) {
        BenchSystem.dropPageCache()
        let start = ContinuousClock.now
        let result = try await lab.instances.exec(instance, ["/bin/sh", "-c", Self.readScript], timeout: .seconds(600))
        guard result.exitCode == 0 else {
            throw SnaplabError(.guest, "`\(Self.readScript)` failed in \(instance): \(result.stderr)")
        }
        return ((ContinuousClock.now - start).inSeconds, String(result.stdout.prefix(64)))
    }
}
