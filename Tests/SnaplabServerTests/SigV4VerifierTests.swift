import Foundation
import Testing

@testable import SnaplabServer

/// AWS's own SigV4 example (the IAM ListUsers GET request from the AWS General Reference), checked by the
/// verifier at the example's date.
@Suite struct SigV4VerifierTests {
    static let keys = AccessKeys(keys: [
        .init(
            accessKeyId: "AKIDEXAMPLE",
            secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            createdAt: Date())
    ])

    static func request(signature: String, body: Data = Data()) -> SigV4Verifier.SignedRequest {
        SigV4Verifier.SignedRequest(
            method: "GET", path: "/", query: "Action=ListUsers&Version=2010-05-08",
            headers: [
                "content-type": "application/x-www-form-urlencoded; charset=utf-8", "host": "iam.amazonaws.com",
                "x-amz-date": "20150830T123600Z",
                "authorization":
                    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=\(signature)",
            ],
            body: body)
    }

    static let good = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
    static let exampleDate = SigV4Verifier.parse("20150830T123600Z") ?? Date()

    @Test func awsExampleVerifies() throws {
        try SigV4Verifier(keys: Self.keys).verify(Self.request(signature: Self.good), now: Self.exampleDate)
    }

    @Test func wrongSignatureStaleDateAndChangedBodyAreRefused() {
        let verifier = SigV4Verifier(keys: Self.keys)
        #expect {
            try verifier.verify(Self.request(signature: String(repeating: "0", count: 64)), now: Self.exampleDate)
        } throws: { ($0 as? EC2Error)?.code == "SignatureDoesNotMatch" }
        #expect {
            try verifier.verify(Self.request(signature: Self.good), now: Self.exampleDate.addingTimeInterval(3600))
        } throws: { ($0 as? EC2Error)?.code == "RequestExpired" }
        #expect {
            try verifier.verify(Self.request(signature: Self.good, body: Data("x".utf8)), now: Self.exampleDate)
        } throws: { ($0 as? EC2Error)?.code == "SignatureDoesNotMatch" }
    }

    @Test func anotherRegionAndAnUnsignedHostAreRefused() {
        #expect {
            try SigV4Verifier(keys: Self.keys, region: "snaplab")
                .verify(Self.request(signature: Self.good), now: Self.exampleDate)
        } throws: { ($0 as? EC2Error)?.code == "AuthFailure" }
        var unsignedHost = Self.request(signature: Self.good)
        unsignedHost.headers["authorization"] = unsignedHost.headers["authorization"]?
            .replacingOccurrences(of: "content-type;host;x-amz-date", with: "content-type;x-amz-date")
        #expect {
            try SigV4Verifier(keys: Self.keys).verify(unsignedHost, now: Self.exampleDate)
        } throws: { ($0 as? EC2Error)?.code == "IncompleteSignature" }
    }

    @Test func secretsCompareWhole() {
        #expect(ConstantTime.equal("wJalrXUtnFEMI", "wJalrXUtnFEMI"))
        #expect(!ConstantTime.equal("wJalrXUtnFEMI", "wJalrXUtnFEMJ"))
        #expect(!ConstantTime.equal("wJalrXUtnFEMI", "wJalrXUtnFEM"))
        #expect(!ConstantTime.equal("", "x"))
        #expect(ConstantTime.equal("", ""))
    }
}
