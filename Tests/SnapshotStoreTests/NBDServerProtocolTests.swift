import CNBD
import Foundation
import Testing

@testable import SnapshotStore

/// The server's less travelled paths, through libnbd itself: simple replies (no structured replies), reads with
/// "don't fragment" over holes, writes refused.
@Suite(.serialized) struct NBDServerProtocolTests {
    static func connect(_ served: SnapshotExportTests.Served, structured: Bool) throws -> OpaquePointer {
        let handle = try #require(nbd_create())
        nbd_set_export_name(handle, "snap-export")
        nbd_set_request_structured_replies(handle, structured)
        // Let bad requests reach the server instead of being refused by libnbd.
        nbd_set_strict_mode(handle, 0)
        #expect(nbd_connect_unix(handle, served.server.socketPath) == 0, "\(String(cString: nbd_get_error()))")
        return handle
    }

    static func read(_ handle: OpaquePointer, _ offset: UInt64, _ count: Int, flags: UInt32 = 0) -> (Int32, Data) {
        var bytes = Data(repeating: 0xAA, count: count)
        let status = bytes.withUnsafeMutableBytes { nbd_pread(handle, $0.baseAddress, count, offset, flags) }
        return (status, bytes)
    }

    @Test func simpleRepliesDontFragmentAndRefusedWrites() async throws {
        try await SnapshotExportTests.withServed { served in
            let chunk = SnapshotExportTests.chunk
            for structured in [false, true] {
                let handle = try Self.connect(served, structured: structured)
                defer {
                    nbd_shutdown(handle, 0)
                    nbd_close(handle)
                }
                #expect(nbd_is_read_only(handle) == 1)
                #expect(nbd_get_size(handle) == Int64(SnapshotExportTests.volumeSize))
                // Data, then a hole, in one read.
                let (status, bytes) = Self.read(handle, UInt64(2 * chunk), 2 * chunk)
                #expect(status == 0, "\(String(cString: nbd_get_error()))")
                #expect(bytes.prefix(chunk) == SnapshotExportTests.written[2]!, "structured: \(structured)")
                #expect(bytes.suffix(chunk).allSatisfy { $0 == 0 }, "structured: \(structured)")
                if structured {
                    // A hole read whole ("don't fragment") is zeros, not whatever was in the buffer.
                    let (whole, zeros) = Self.read(handle, UInt64(10 * chunk), chunk, flags: UInt32(LIBNBD_CMD_FLAG_DF))
                    #expect(whole == 0 && zeros.allSatisfy { $0 == 0 })
                }
                var payload = Data(count: 512)
                let written = payload.withUnsafeMutableBytes { nbd_pwrite(handle, $0.baseAddress, 512, 0, 0) }
                #expect(written == -1 && nbd_get_errno() == EPERM)
                let (after, again) = Self.read(handle, 0, 16)
                #expect(after == 0 && again == SnapshotExportTests.written[0]!.prefix(16), "the connection stays")
                let (outside, _) = Self.read(handle, SnapshotExportTests.volumeSize - 8, 16)
                #expect(outside == -1 && nbd_get_errno() == EINVAL, "a read past the end is refused")
            }
        }
    }
}
