import Foundation
import Libvirt
import NBD
import SnapshotStore

/// Writes a snapshot into a writable export (a new, empty qcow2) in volume order, with several large writes in
/// flight: the store's reader decodes and checks chunks ahead on its own threads, and zero chunks are never
/// written, so the result stays sparse. A chunk that does not match its hash stops the restore with an error
/// rather than writing wrong data.
struct VolumeRestorer: Sendable {
    static let writesInFlight = 8

    let connection: NBDConnection
    let session: StoreSession
    let manifest: Manifest
    let progress: @Sendable (Double) -> Void

    func run() async throws(SnaplabError) {
        let session = self.session
        let manifest = self.manifest
        let reader = try await withStore { () async throws(StoreError) in try await session.openReader(manifest) }
        let connection = self.connection
        let progress = self.progress
        progress(0)
        try await blockingCopy("writing the restored volume") { cancellation in
            let queue = NBDRequestQueue(connection, depth: Self.writesInFlight)
            let total = Double(max(1, manifest.table.entries))
            var written = 0
            var held = 0
            do {
                while true {
                    // Give buffers back before waiting for more: the reader decodes into them.
                    while held >= SnapshotReader.windowsCallerMayHold { try queue.waitForOldest() }
                    guard let window = try reader.next() else { break }
                    try cancellation.check("the restore was cancelled")
                    held += 1
                    var left = window.runs.count
                    for run in window.runs {
                        try queue.write(run.bytes, at: run.offset) {
                            left -= 1
                            if left == 0 {
                                reader.release(window)
                                held -= 1
                            }
                        }
                    }
                    written += window.chunkCount
                    progress(Double(written) / total * 100)
                }
                try queue.drain()
                try connection.flush()
                reader.close()
            } catch {
                // No buffer may go back to the reader while qemu may still read from it.
                queue.abandon()
                reader.close()
                throw error
            }
        }
    }
}

extension VolumeRestorer {
    /// Creates a volume in the host's pool and writes the snapshot into it (sparse qcow2; zero chunks are not
    /// written): what a restore and the hydration of a base both do. A host on another machine gets it through
    /// libvirt: restored into a local scratch qcow2 first, then uploaded into its pool by a storage stream (the
    /// upload counts as the last 10 %).
    static func restore(
        _ manifest: Manifest, session: StoreSession, into host: Host, name: String,
        hypervisor: Hypervisor, transfers: URL, progress: @escaping @Sendable (Double) -> Void
    )
        async throws(SnaplabError) -> (path: String, info: StorageVolumeInfo)
    {
        guard !host.isOnThisMachine else {
            let made = try await hypervisor.createVolume(pool: host.poolName, name: name, capacity: manifest.volumeSize)
            let connection = try await VolumeExport.openWritable(file: made.path)
            try await VolumeRestorer(connection: connection, session: session, manifest: manifest, progress: progress)
                .run()
            return made
        }
        try Directories.create(transfers)
        let scratch = transfers.appendingPathComponent("\(host.name)-\(name)")
        defer { try? FileManager.default.removeItem(at: scratch) }
        try await QemuImg.create(at: scratch.path, size: manifest.volumeSize)
        let connection = try await VolumeExport.openWritable(file: scratch.path)
        try await VolumeRestorer(
            connection: connection, session: session, manifest: manifest, progress: { progress($0 * 0.9) }
        ).run()
        let made = try await hypervisor.importVolume(
            pool: host.poolName, name: name, capacity: manifest.volumeSize, from: scratch)
        progress(100)
        return made
    }
}
