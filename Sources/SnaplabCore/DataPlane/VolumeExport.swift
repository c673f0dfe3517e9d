import Blocking
import Foundation
import NBD

/// Opens NBD connections to volume contents: a running domain's backup export, or a stopped volume's qcow2
/// served by `qemu-nbd` (started through socket activation, so it ends when the connection closes — also when
/// this process dies).
enum VolumeExport {
    static let qemuNBD = "/usr/bin/qemu-nbd"
    /// qemu-nbd allocates a buffer per request; with glibc's default thresholds a multi-megabyte one is a fresh
    /// mapping each time, faulted in and zeroed page by page before the disk fills it. Keeping such buffers in
    /// the heap (reused) saves that work on every request.
    static let launcher = [
        "/usr/bin/env", "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=67108864:glibc.malloc.trim_threshold=268435456",
    ]

    /// A stopped volume, read-only; with `bitmap`, its `qemu:dirty-bitmap:NAME` context too.
    static func openStopped(file: String, bitmap: String?) async throws(SnaplabError) -> NBDConnection {
        var contexts = [NBDConnection.allocationContext]
        var argv = launcher + [qemuNBD, "--read-only", "--format=qcow2", "--cache=none", "--aio=threads"]
        if let bitmap {
            argv.append("--bitmap=\(bitmap)")
            contexts.append("qemu:dirty-bitmap:\(bitmap)")
        }
        argv.append(file)
        let command = argv
        let wanted = contexts
        return try await connect("serving \(file) with qemu-nbd") { () throws(NBDError) in
            let connection = try NBDConnection(metaContexts: wanted)
            try connection.connect(socketActivating: command)
            return connection
        }
    }

    /// A volume to fill (restore), writable.
    static func openWritable(file: String) async throws(SnaplabError) -> NBDConnection {
        let argv = launcher + [qemuNBD, "--format=qcow2", "--cache=none", "--aio=threads", "--discard=unmap", file]
        return try await connect("serving \(file) writable with qemu-nbd") { () throws(NBDError) in
            let connection = try NBDConnection()
            try connection.connect(socketActivating: argv)
            return connection
        }
    }

    /// The export libvirt's pull-mode backup job serves for one disk.
    static func openBackup(endpoint: BackupEndpoint, device: String, incremental: Bool) async throws(SnaplabError)
        -> NBDConnection
    {
        var contexts = [NBDConnection.allocationContext]
        if incremental { contexts.append(backupBitmapContext(device)) }
        let wanted = contexts
        return try await connect("reading the backup export of \(device)") { () throws(NBDError) in
            let connection = try NBDConnection(exportName: device, metaContexts: wanted)
            switch endpoint {
            case .unix(let socket): try connection.connect(unixSocket: socket)
            case .tcp(let host, let port): try connection.connect(host: host, port: port)
            }
            return connection
        }
    }

    static func backupBitmapContext(_ device: String) -> String { "qemu:dirty-bitmap:backup-\(device)" }

    private static func connect(_ what: String, _ body: @escaping @Sendable () throws(NBDError) -> NBDConnection)
        async throws(SnaplabError) -> NBDConnection
    {
        do {
            return try await BlockingPool.run { try body() }
        } catch let error as NBDError {
            throw SnaplabError(.io, "\(what) failed: \(error.message)", cause: error)
        } catch {
            throw SnaplabError(.internal, "\(what) failed", cause: error)
        }
    }
}
