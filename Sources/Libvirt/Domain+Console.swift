import CLibvirt
import Foundation

extension Domain {
    /// Opens the domain's serial console (a `<serial type='pty'>`) as a byte stream through libvirt, which
    /// also works for a domain on a remote host. Only what the guest prints from now on arrives: earlier output
    /// is not replayed. Takes the console over from another client (`VIR_DOMAIN_CONSOLE_FORCE`).
    public func openConsole() throws(LibvirtError) -> ConsoleStream {
        let stream = try Stream(connection: connection)
        try check(
            virDomainOpenConsole(pointer, nil, stream.pointer, UInt32(VIR_DOMAIN_CONSOLE_FORCE.rawValue)),
            "virDomainOpenConsole(\(name))")
        return ConsoleStream(stream: stream)
    }
}

/// A domain's console output, read with blocking calls (on a thread of their own, never the concurrency pool).
///
/// `@unchecked Sendable`: one reader at a time; `close` may come from another thread to end a blocked read.
public final class ConsoleStream: @unchecked Sendable {
    private let stream: Stream

    init(stream: Stream) {
        self.stream = stream
    }

    /// Blocks until the guest prints something; 0 when the console closed (the domain stopped).
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(LibvirtError) -> Int {
        try stream.receive(into: buffer)
    }

    public func close() {
        stream.abort()
    }
}
