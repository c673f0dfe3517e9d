import CLibvirt
import Foundation

/// A blocking libvirt data stream (`virStreamPtr`), used for volume upload/download.
final class Stream {
    let pointer: virStreamPtr
    private var finished = false

    init(connection: Connection) throws(LibvirtError) {
        pointer = try check(virStreamNew(connection.pointer, 0), "virStreamNew")
    }

    deinit {
        if !finished {
            _ = virStreamAbort(pointer)
            virResetLastError()
        }
        virStreamFree(pointer)
    }

    func sendAll(_ data: Data) throws(LibvirtError) {
        var offset = 0
        while offset < data.count {
            let sent = data.withUnsafeBytes { buffer in
                virStreamSend(
                    pointer, buffer.baseAddress!.advanced(by: offset).assumingMemoryBound(to: CChar.self),
                    data.count - offset)
            }
            if sent < 0 { throw LibvirtError.last("virStreamSend") }
            offset += Int(sent)
        }
    }

    /// Receives up to `count` bytes into `buffer`; 0 at the end of the stream.
    func receive(into buffer: UnsafeMutableRawBufferPointer) throws(LibvirtError) -> Int {
        let received = virStreamRecv(pointer, buffer.baseAddress!.assumingMemoryBound(to: CChar.self), buffer.count)
        if received < 0 { throw LibvirtError.last("virStreamRecv") }
        return Int(received)
    }

    func finish() throws(LibvirtError) {
        finished = true
        try check(virStreamFinish(pointer), "virStreamFinish")
    }

    func abort() {
        guard !finished else { return }
        finished = true
        _ = virStreamAbort(pointer)
        virResetLastError()
    }
}
