import Foundation

/// Where an S3 store is and how to sign for it: `s3://bucket/prefix`, with the endpoint, region and
/// credentials from the URL's query (`?endpoint=http://127.0.0.1:9000&region=eu-west-1`), else the usual AWS
/// environment (`AWS_ENDPOINT_URL`, `AWS_REGION`/`AWS_DEFAULT_REGION`, `AWS_ACCESS_KEY_ID`,
/// `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), else the profile (`AWS_PROFILE` in ~/.aws/credentials).
public struct S3Location: Sendable, Equatable {
    public var bucket: String
    /// Key prefix inside the bucket, without leading or trailing slash ("" for the bucket's root).
    public var prefix: String
    public var endpoint: URL
    public var region: String
    public var accessKeyId: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// `?object-lock=1`: a bucket the store creates gets S3 Object Lock (and so versioning), so that snapshot
    /// locks are also held by the bucket.
    public var objectLock = false

    public static func parse(_ url: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        throws(StoreError) -> S3Location
    {
        guard url.hasPrefix("s3://"), let components = URLComponents(string: url), let bucket = components.host,
            !bucket.isEmpty
        else { throw StoreError(.unsupported, "'\(url)' is not an S3 URL; use s3://bucket/prefix") }
        let query = Dictionary((components.queryItems ?? []).map { ($0.name, $0.value ?? "") }) { $1 }
        let prefix = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let endpointText =
            query["endpoint"] ?? environment["AWS_ENDPOINT_URL_S3"] ?? environment["AWS_ENDPOINT_URL"]
            ?? "https://s3.amazonaws.com"
        guard let endpoint = URL(string: endpointText), endpoint.scheme != nil else {
            throw StoreError(.unsupported, "'\(endpointText)' is not an endpoint URL")
        }
        let region = query["region"] ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
        var keyId = environment["AWS_ACCESS_KEY_ID"]
        var secret = environment["AWS_SECRET_ACCESS_KEY"]
        var token = environment["AWS_SESSION_TOKEN"]
        if keyId == nil || secret == nil {
            let profile = query["profile"] ?? environment["AWS_PROFILE"] ?? "default"
            let file =
                environment["AWS_SHARED_CREDENTIALS_FILE"]
                ?? (environment["HOME"] ?? NSHomeDirectory()) + "/.aws/credentials"
            let values = Self.profile(profile, in: file)
            keyId = values["aws_access_key_id"]
            secret = values["aws_secret_access_key"]
            token = values["aws_session_token"]
        }
        guard let keyId, let secret else {
            throw StoreError(
                .unsupported,
                "no AWS credentials for \(url): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a profile in ~/.aws/credentials"
            )
        }
        var location = S3Location(
            bucket: bucket, prefix: prefix, endpoint: endpoint, region: region, accessKeyId: keyId,
            secretAccessKey: secret, sessionToken: token)
        location.objectLock = ["1", "true", "yes"].contains(query["object-lock"]?.lowercased() ?? "")
        return location
    }

    /// The key=value lines of one `[profile]` section of an AWS credentials file.
    static func profile(_ name: String, in path: String) -> [String: String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return [:] }
        var current: String?
        var values: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline).map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("[") && line.hasSuffix("]") {
                current = String(line.dropFirst().dropLast()).trimmingCharacters(in: .whitespaces)
                continue
            }
            guard current == name, let equals = line.firstIndex(of: "=") else { continue }
            values[line[..<equals].trimmingCharacters(in: .whitespaces)] =
                line[line.index(after: equals)...].trimmingCharacters(in: .whitespaces)
        }
        return values
    }

    /// The object key of a store key.
    func objectKey(_ key: String) -> String { prefix.isEmpty ? key : "\(prefix)/\(key)" }

    public var description: String {
        "s3://\(bucket)\(prefix.isEmpty ? "" : "/" + prefix) at \(endpoint.absoluteString)"
    }
}
