import Foundation

/// The calls the data pipeline's threads make, without a Swift task: AsyncHTTPClient's future API, waited on by
/// the calling thread (never an event-loop thread).
extension S3Backend: BlockingObjectBackend {
    func readBlocking(_ key: String, offset: UInt64, into buffer: UnsafeMutableRawBufferPointer) throws(StoreError) {
        guard buffer.count > 0 else { return }
        let range = "bytes=\(offset)-\(offset + UInt64(buffer.count) - 1)"
        let reply = try sendBlocking("GET", key: key, body: Data(), expect: [200, 206], extraHeaders: ["range": range])
        guard reply.body.count == buffer.count else {
            throw StoreError(.corrupt, "\(key) is shorter than byte \(offset + UInt64(buffer.count))")
        }
        reply.body.copyBytes(to: buffer)
    }

    func putPackBlocking(_ key: String, _ buffer: UnsafeMutableRawBufferPointer, length: Int) throws(StoreError) {
        _ = try sendBlocking(
            "PUT", key: key, body: Data(UnsafeRawBufferPointer(rebasing: buffer[0..<length])), expect: [200])
    }

    func putBlocking(_ key: String, _ data: Data) throws(StoreError) {
        _ = try sendBlocking("PUT", key: key, body: data, expect: [200])
    }

    func sizeBlocking(_ key: String) throws(StoreError) -> UInt64 {
        let reply = try sendBlocking("HEAD", key: key, body: Data(), expect: [200, 404])
        guard reply.status == 200 else { throw StoreError(.notFound, "\(key) is not in \(s3.description)") }
        return reply.contentLength ?? 0
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}
