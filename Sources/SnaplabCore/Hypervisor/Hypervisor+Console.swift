import Foundation
import Libvirt
import Synchronization

extension Hypervisor {
    /// Streams a running domain's serial console through libvirt until `onOutput` returns false, the console
    /// closes (the domain stopped) or the task is cancelled. The reads block, so they run on a thread of their
    /// own, never on the concurrency pool.
    public func followConsole(domain name: String, onOutput: @escaping @Sendable (Data) -> Bool)
        async throws(SnaplabError)
    {
        let console = try await call("opening the console of \(name)") { connection in
            try connection.lookupDomain(name: name).openConsole()
        }
        let uri = self.uri
        // Set before the stream is closed from outside, so the read it ends is not reported as a failure.
        let cancelled = Mutex(false)
        let result: Result<Void, SnaplabError> = await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                Thread {
                    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
                    defer { buffer.deallocate() }
                    do throws(LibvirtError) {
                        while true {
                            let count = try console.read(into: buffer)
                            if count == 0 || !onOutput(Data(buffer[0..<count])) { break }
                        }
                        console.close()
                        continuation.resume(returning: .success(()))
                    } catch {
                        continuation.resume(
                            returning: cancelled.withLock({ $0 })
                                ? .success(())
                                : .failure(
                                    SnaplabError(
                                        .hypervisor,
                                        "reading the console of \(name) failed on \(uri): \(error.message)",
                                        cause: error)))
                    }
                }.start()
            }
        } onCancel: {
            cancelled.withLock { $0 = true }
            console.close()
        }
        try result.get()
    }
}
