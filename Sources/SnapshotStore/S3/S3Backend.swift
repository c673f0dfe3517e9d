import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// The scale-out backend: objects in an S3-compatible bucket, SigV4-signed over AsyncHTTPClient (path-style
/// addressing). Transient failures (5xx, timeouts, refused connections) are retried with exponential
/// backoff; a put is one PUT, so it is atomic by construction.
public struct S3Backend: ObjectBackend {
    public let s3: S3Location
    let client: HTTPClient
    /// Attempts per request, and the first backoff (doubling each time).
    var attempts = 6
    var firstBackoff: Duration = .milliseconds(250)

    public init(location: S3Location, client: HTTPClient = .shared) {
        s3 = location
        self.client = client
    }

    public var location: String { s3.description }

    /// Creates the bucket unless it exists (with object lock when the URL asks for it).
    public func prepare() async throws(StoreError) {
        let head = try await send("HEAD", path: "/\(s3.bucket)", query: [], body: Data(), expect: [200, 404])
        if head.status == 404 {
            _ = try await send(
                "PUT", path: "/\(s3.bucket)", query: [], body: Data(), expect: [200, 409],
                extraHeaders: s3.objectLock ? ["x-amz-bucket-object-lock-enabled": "true"] : [:])
        }
    }

    public func put(_ key: String, _ data: Data) async throws(StoreError) {
        _ = try await send("PUT", key: key, body: data, expect: [200])
    }

    public func get(_ key: String) async throws(StoreError) -> Data {
        try await send("GET", key: key, body: Data(), expect: [200]).body
    }

    public func get(_ key: String, offset: UInt64, length: Int) async throws(StoreError) -> Data {
        let range = "bytes=\(offset)-\(offset + UInt64(length) - 1)"
        let data = try await send("GET", key: key, body: Data(), expect: [200, 206], extraHeaders: ["range": range])
            .body
        guard data.count == length else {
            throw StoreError(.corrupt, "\(key) is shorter than byte \(offset + UInt64(length))")
        }
        return data
    }

    public func list(prefix: String) async throws(StoreError) -> [String] {
        var keys: [String] = []
        var token: String?
        let base = s3.objectKey(prefix)
        repeat {
            var query = [("list-type", "2"), ("prefix", base)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send("GET", path: "/\(s3.bucket)", query: query, body: Data(), expect: [200])
            let page = try ListBucketResult(response.body, from: s3.description)
            let strip = s3.prefix.isEmpty ? 0 : s3.prefix.count + 1
            keys += page.keys.map { String($0.dropFirst(strip)) }
            token = page.nextToken
        } while token != nil
        return keys
    }

    public func delete(_ key: String) async throws(StoreError) {
        _ = try await send("DELETE", key: key, body: Data(), expect: [200, 204, 404])
    }

    public func exists(_ key: String) async throws(StoreError) -> Bool {
        try await send("HEAD", key: key, body: Data(), expect: [200, 404]).status == 200
    }

    public func size(_ key: String) async throws(StoreError) -> UInt64 {
        let response = try await send("HEAD", key: key, body: Data(), expect: [200, 404])
        guard response.status == 200 else { throw StoreError(.notFound, "\(key) is not in \(s3.description)") }
        return response.contentLength ?? 0
    }

    public func modified(_ key: String) async throws(StoreError) -> Date {
        let response = try await send("HEAD", key: key, body: Data(), expect: [200, 404])
        guard response.status == 200 else { throw StoreError(.notFound, "\(key) is not in \(s3.description)") }
        guard let text = response.lastModified, let date = HTTPDate.parse(text) else {
            throw StoreError(.corrupt, "\(s3.description) gave \(key) no readable Last-Modified")
        }
        return date
    }

    public func lock(exclusive: Bool, timeout: Duration) async throws(StoreError) -> any StoreLock {
        try await S3Lock.acquire(on: self, exclusive: exclusive, timeout: timeout)
    }

    // MARK: Requests

    struct Reply: Sendable {
        var status: Int
        var body: Data
        var contentLength: UInt64?
        var lastModified: String?
    }

    func send(_ method: String, key: String, body: Data, expect: Set<Int>, extraHeaders: [String: String] = [:])
        async throws(StoreError) -> Reply
    {
        let path = "/\(s3.bucket)/" + SigV4.uriEncode(s3.objectKey(key), keepSlash: true)
        return try await send(
            method, path: path, query: [], body: body, expect: expect, extraHeaders: extraHeaders,
            what: "\(method) \(key)")
    }

    func send(
        _ method: String, path: String, query: [(String, String)], body: Data, expect: Set<Int>,
        extraHeaders: [String: String] = [:], what: String? = nil
    ) async throws(StoreError) -> Reply {
        let request = sign(method, path: path, query: query, body: body, extraHeaders: extraHeaders)
        var retries = Retries(attempts: attempts, backoff: firstBackoff)
        while true {
            let outcome: Result<Reply, any Error>
            do {
                outcome = .success(try await once(request))
            } catch {
                outcome = .failure(error)
            }
            switch try retries.next(outcome, expect: expect, what: what ?? "\(method) \(path)", on: s3) {
            case .done(let reply): return reply
            case .retry(let wait): try? await Task.sleep(for: wait)
            }
        }
    }

    /// The same request from a thread that may block (the data pipeline's): no Swift task involved.
    func sendBlocking(
        _ method: String, key: String, body: Data, expect: Set<Int>,
        extraHeaders: [String: String] = [:]
    ) throws(StoreError) -> Reply {
        let path = "/\(s3.bucket)/" + SigV4.uriEncode(s3.objectKey(key), keepSlash: true)
        let request = sign(method, path: path, query: [], body: body, extraHeaders: extraHeaders)
        var retries = Retries(attempts: attempts, backoff: firstBackoff)
        while true {
            let outcome: Result<Reply, any Error>
            do {
                outcome = .success(try onceBlocking(request))
            } catch {
                outcome = .failure(error)
            }
            switch try retries.next(outcome, expect: expect, what: "\(method) \(key)", on: s3) {
            case .done(let reply): return reply
            case .retry(let wait): Thread.sleep(forTimeInterval: wait.seconds)
            }
        }
    }

    /// A request ready to send: its URL and SigV4-signed headers.
    struct SignedRequest: Sendable {
        var method: String
        var url: String
        var headers: [(String, String)]
        var body: Data
    }

    private func sign(
        _ method: String, path: String, query: [(String, String)], body: Data,
        extraHeaders: [String: String]
    ) -> SignedRequest {
        let amzDate = SigV4.amzDate(Date())
        let payloadHash = SigV4.hexSHA256(body)
        var host = s3.endpoint.host ?? "localhost"
        if let port = s3.endpoint.port { host += ":\(port)" }
        var signed = ["host": host, "x-amz-date": amzDate, "x-amz-content-sha256": payloadHash]
        if let token = s3.sessionToken { signed["x-amz-security-token"] = token }
        for (name, value) in extraHeaders { signed[name] = value }
        let canonicalQuery = SigV4.canonicalQuery(query)
        let (signature, signedHeaders) = SigV4.signature(
            secret: s3.secretAccessKey, amzDate: amzDate, region: s3.region, service: "s3", method: method,
            path: path, canonicalQuery: canonicalQuery, headers: signed, payloadHash: payloadHash)
        let scope = "\(amzDate.prefix(8))/\(s3.region)/s3/aws4_request"
        let base =
            s3.endpoint.absoluteString.hasSuffix("/")
            ? String(s3.endpoint.absoluteString.dropLast()) : s3.endpoint.absoluteString
        var headers = signed.filter { $0.key != "host" }.map { ($0.key, $0.value) }
        headers.append(
            (
                "authorization",
                "\(SigV4.algorithm) Credential=\(s3.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
            ))
        if !body.isEmpty || method == "PUT" { headers.append(("content-length", String(body.count))) }
        return SignedRequest(
            method: method, url: base + path + (canonicalQuery.isEmpty ? "" : "?" + canonicalQuery),
            headers: headers, body: body)
    }

    private func once(_ signed: SignedRequest) async throws -> Reply {
        var request = HTTPClientRequest(url: signed.url)
        request.method = HTTPMethod(rawValue: signed.method)
        for (name, value) in signed.headers { request.headers.add(name: name, value: value) }
        if !signed.body.isEmpty || signed.method == "PUT" { request.body = .bytes(ByteBuffer(bytes: signed.body)) }
        let response = try await client.execute(request, timeout: .seconds(60))
        let collected = signed.method == "HEAD" ? ByteBuffer() : try await response.body.collect(upTo: 256 << 20)
        return Reply(
            status: Int(response.status.code), body: Data(collected.readableBytesView),
            contentLength: response.headers.first(name: "content-length").flatMap(UInt64.init),
            lastModified: response.headers.first(name: "last-modified"))
    }

    private func onceBlocking(_ signed: SignedRequest) throws -> Reply {
        var headers = HTTPHeaders()
        for (name, value) in signed.headers { headers.add(name: name, value: value) }
        let body: HTTPClient.Body? = signed.body.isEmpty && signed.method != "PUT" ? nil : .bytes(signed.body)
        let request = try HTTPClient.Request(
            url: signed.url, method: HTTPMethod(rawValue: signed.method),
            headers: headers, body: body)
        let response = try client.execute(request: request, deadline: .now() + .seconds(60)).wait()
        return Reply(
            status: Int(response.status.code), body: response.body.map { Data($0.readableBytesView) } ?? Data(),
            contentLength: response.headers.first(name: "content-length").flatMap(UInt64.init),
            lastModified: response.headers.first(name: "last-modified"))
    }
}

/// When to try a request again: 5xx, throttling, timeouts and refused connections, with exponential backoff.
private struct Retries {
    var attempts: Int
    var backoff: Duration
    private var attempt = 0
    private var lastError = "no attempt"

    init(attempts: Int, backoff: Duration) {
        self.attempts = attempts
        self.backoff = backoff
    }

    enum Step {
        case done(S3Backend.Reply)
        case retry(after: Duration)
    }

    /// The reply to return, or how long to wait before the next attempt; throws what is final.
    mutating func next(
        _ outcome: Result<S3Backend.Reply, any Error>, expect: Set<Int>, what: String,
        on s3: S3Location
    ) throws(StoreError) -> Step {
        attempt += 1
        switch outcome {
        case .success(let reply):
            if expect.contains(reply.status) { return .done(reply) }
            let message = String(decoding: reply.body.prefix(300), as: UTF8.self)
            if reply.status < 500 && reply.status != 429 {
                throw StoreError(
                    reply.status == 404 ? .notFound : .io,
                    "\(what) on \(s3.description) failed with HTTP \(reply.status): \(message)")
            }
            lastError = "HTTP \(reply.status): \(message)"
        case .failure(let error as StoreError):
            throw error
        case .failure(let error):
            lastError = "\(error)"
        }
        guard attempt < attempts else {
            throw StoreError(.io, "\(what) on \(s3.description) failed after \(attempts) attempts: \(lastError)")
        }
        defer { backoff *= 2 }
        return .retry(after: backoff)
    }
}

/// The keys and continuation token of a ListObjectsV2 answer.
struct ListBucketResult {
    var keys: [String] = []
    var nextToken: String?

    /// Throws when the answer does not parse: a listing that silently lost keys would make their objects look
    /// unused to garbage collection.
    init(_ data: Data, from source: String) throws(StoreError) {
        let parser = XMLParser(data: data)
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse(), delegate.sawResult else {
            let reason = parser.parserError.map { "\($0)" } ?? "no complete ListBucketResult"
            throw StoreError(.io, "\(source) sent a listing that does not parse (\(reason)); try again")
        }
        guard !delegate.truncated || delegate.nextToken != nil else {
            throw StoreError(.io, "\(source) sent a truncated listing without a continuation token; try again")
        }
        keys = delegate.keys
        nextToken = delegate.truncated ? delegate.nextToken : nil
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var keys: [String] = []
        var nextToken: String?
        var truncated = false
        var sawResult = false
        private var text = ""

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName: String?, attributes: [String: String] = [:]
        ) {
            text = ""
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
            qualifiedName: String?
        ) {
            switch elementName {
            case "Key": keys.append(text)
            case "NextContinuationToken": nextToken = text
            case "IsTruncated": truncated = text == "true"
            // Only a closed result is whole (the parser accepts a document cut short).
            case "ListBucketResult": sawResult = true
            default: break
            }
        }
    }
}
