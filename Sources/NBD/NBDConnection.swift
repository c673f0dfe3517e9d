import CNBD
import Foundation

/// One libnbd handle (`struct nbd_handle`), connected to one export. Blocking calls: use it from a thread
/// that may block, one thread at a time.
///
/// `@unchecked Sendable`: a handle may move between threads; callers serialize its use (libnbd handles carry
/// their own lock, so even concurrent calls are safe, just not useful here).
public final class NBDConnection: @unchecked Sendable {
    let handle: OpaquePointer

    /// Creates a handle that will ask for `metaContexts` (e.g. `base:allocation`) and open `exportName`.
    public init(exportName: String = "", metaContexts: [String] = []) throws(NBDError) {
        guard let handle = nbd_create() else { throw NBDError.last("nbd_create") }
        self.handle = handle
        // libnbd zeroes every read buffer first, in case a faulty server leaves part of it unwritten: a memset of
        // everything read. Reads here either fill the buffer or fail, and a failed read's buffer is never used.
        if nbd_set_pread_initialize(handle, false) < 0 { throw NBDError.last("nbd_set_pread_initialize") }
        if nbd_set_export_name(handle, exportName) < 0 { throw NBDError.last("nbd_set_export_name") }
        for context in metaContexts where nbd_add_meta_context(handle, context) < 0 {
            throw NBDError.last("nbd_add_meta_context(\(context))")
        }
    }

    deinit {
        // Also ends (and reaps) a server started with socket activation.
        nbd_close(handle)
    }

    /// Connects to a server listening on a Unix socket (e.g. libvirt's pull-mode backup export).
    public func connect(unixSocket path: String) throws(NBDError) {
        if nbd_connect_unix(handle, path) < 0 { throw NBDError.last("nbd_connect_unix(\(path))") }
    }

    /// Connects to a server listening on TCP (a pull-mode backup export on a host on another machine).
    public func connect(host: String, port: Int) throws(NBDError) {
        if nbd_connect_tcp(handle, host, String(port)) < 0 { throw NBDError.last("nbd_connect_tcp(\(host):\(port))") }
    }

    /// Starts `argv` (e.g. `qemu-nbd …`) as a child with a socket handed over by systemd-style socket
    /// activation and connects to it; the child exits when this connection closes.
    public func connect(socketActivating argv: [String]) throws(NBDError) {
        var cStrings: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) }
        cStrings.append(nil)
        defer { for cString in cStrings { free(cString) } }
        let result = cStrings.withUnsafeMutableBufferPointer { buffer in
            nbd_connect_systemd_socket_activation(handle, buffer.baseAddress)
        }
        if result < 0 { throw NBDError.last("nbd_connect_systemd_socket_activation(\(argv.first ?? ""))") }
    }

    public func size() throws(NBDError) -> UInt64 {
        let size = nbd_get_size(handle)
        if size < 0 { throw NBDError.last("nbd_get_size") }
        return UInt64(size)
    }

    public func isReadOnly() -> Bool { nbd_is_read_only(handle) == 1 }

    /// Whether the server agreed to provide `context` (after connecting).
    public func supports(metaContext context: String) -> Bool {
        nbd_can_meta_context(handle, context) == 1
    }

    /// Reads exactly `buffer.count` bytes at `offset`.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(NBDError) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        if nbd_pread(handle, base, buffer.count, offset, 0) < 0 { throw NBDError.last("nbd_pread(\(offset))") }
    }

    /// Writes `buffer` at `offset`.
    public func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws(NBDError) {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return }
        if nbd_pwrite(handle, base, buffer.count, offset, 0) < 0 { throw NBDError.last("nbd_pwrite(\(offset))") }
    }

    public func flush() throws(NBDError) {
        if nbd_flush(handle, 0) < 0 { throw NBDError.last("nbd_flush") }
    }

    /// Asks the server to end the session cleanly (it flushes first).
    public func shutdown() throws(NBDError) {
        if nbd_shutdown(handle, 0) < 0 { throw NBDError.last("nbd_shutdown") }
    }
}
