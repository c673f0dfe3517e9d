import Foundation
import SnapshotStore

/// Checks AWS Signature Version 4 on a request, as AWS computes it: canonical request, string to sign, the
/// HMAC key chain of date, region and service. Refuses unsigned requests, unknown keys, wrong signatures
/// (a tampered body changes the payload hash) and dates more than 15 minutes away.
struct SigV4Verifier: Sendable {
    let keys: AccessKeys
    /// The region credentials must be scoped to (nil: any, as in AWS's published examples).
    var region: String?
    var maximumSkew: TimeInterval = 15 * 60

    struct SignedRequest {
        var method: String
        var path: String
        var query: String
        /// Lower-cased names.
        var headers: [String: String]
        var body: Data
    }

    func verify(_ request: SignedRequest, now: Date = Date()) throws(EC2Error) {
        guard let authorization = request.headers["authorization"] else {
            throw EC2Error(
                code: "MissingAuthenticationToken", message: "Request is missing Authentication Token", status: 401)
        }
        guard authorization.hasPrefix(SigV4.algorithm + " ") else {
            throw EC2Error(
                code: "IncompleteSignature", message: "Only \(SigV4.algorithm) signatures are accepted", status: 401)
        }
        var fields: [String: String] = [:]
        for part in authorization.dropFirst(SigV4.algorithm.count + 1).split(separator: ",") {
            let pieces = part.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1).map(String.init)
            if pieces.count == 2 { fields[pieces[0]] = pieces[1] }
        }
        guard let credential = fields["Credential"], let signedHeaders = fields["SignedHeaders"],
            let signature = fields["Signature"]
        else {
            throw EC2Error(
                code: "IncompleteSignature",
                message: "The Authorization header lacks Credential, SignedHeaders or Signature", status: 401)
        }
        let scope = credential.split(separator: "/").map(String.init)
        guard scope.count == 5, scope[4] == "aws4_request" else {
            throw EC2Error(
                code: "IncompleteSignature", message: "The credential scope '\(credential)' is malformed", status: 401)
        }
        let (accessKeyId, day, region, service) = (scope[0], scope[1], scope[2], scope[3])
        if let expected = self.region, region != expected {
            throw EC2Error(
                code: "AuthFailure",
                message:
                    "Credential should be scoped to a valid region: '\(region)' is not '\(expected)' (pass --region \(expected))",
                status: 401)
        }
        guard signedHeaders.split(separator: ";").contains("host") else {
            throw EC2Error(
                code: "IncompleteSignature", message: "'Host' must be a 'SignedHeader' in the AWS Authorization",
                status: 401)
        }
        guard let secret = keys.secret(for: accessKeyId) else {
            throw EC2Error(
                code: "AuthFailure", message: "AWS was not able to validate the provided access credentials",
                status: 401)
        }
        guard let amzDate = request.headers["x-amz-date"], let date = Self.parse(amzDate), amzDate.hasPrefix(day) else {
            throw EC2Error(
                code: "IncompleteSignature",
                message: "The request needs an X-Amz-Date header matching its credential scope", status: 401)
        }
        guard abs(date.timeIntervalSince(now)) <= maximumSkew else {
            throw EC2Error(
                code: "RequestExpired",
                message: "Request has expired: its date \(amzDate) is more than 15 minutes from the server's",
                status: 401)
        }
        let payloadHash = SigV4.hexSHA256(request.body)
        if let claimed = request.headers["x-amz-content-sha256"], claimed != "UNSIGNED-PAYLOAD", claimed != payloadHash
        {
            throw EC2Error(
                code: "SignatureDoesNotMatch", message: "The request body does not match its x-amz-content-sha256",
                status: 401)
        }
        var signed: [String: String] = [:]
        for name in signedHeaders.split(separator: ";").map(String.init) { signed[name] = request.headers[name] ?? "" }
        let expected = SigV4.signature(
            secret: secret, amzDate: amzDate, region: region, service: service, method: request.method,
            path: request.path.isEmpty ? "/" : request.path, canonicalQuery: Self.canonicalQuery(request.query),
            headers: signed, payloadHash: payloadHash)
        guard ConstantTime.equal(expected.signature, signature), expected.signedHeaders == signedHeaders else {
            throw EC2Error(
                code: "SignatureDoesNotMatch",
                message:
                    "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
                status: 401)
        }
    }

    static func parse(_ amzDate: String) -> Date? { SigV4.parseAmzDate(amzDate) }

    /// The query as received, decoded and re-encoded canonically.
    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&").map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map {
                String($0).removingPercentEncoding ?? String($0)
            }
            return (parts[0], parts.count == 2 ? parts[1] : "")
        }
        return SigV4.canonicalQuery(pairs)
    }
}
