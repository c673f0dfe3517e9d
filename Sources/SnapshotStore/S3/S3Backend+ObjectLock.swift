import Crypto
import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// S3 Object Lock: retention on the current version of an object (a bucket created with object lock, which is
/// versioned), and the clean-up of old versions a versioned bucket keeps after every overwrite and delete.
extension S3Backend {
    /// Whether the bucket was created with object lock (`GET ?object-lock`).
    public func retentionSupported() async throws(StoreError) -> Bool {
        // Anything but an answer (no permission to ask, a server without object lock) counts as none.
        let reply = try await send(
            "GET", path: "/\(s3.bucket)", query: [("object-lock", "")], body: Data(),
            expect: [200, 400, 403, 404, 405, 501])
        return reply.status == 200
            && String(decoding: reply.body, as: UTF8.self).contains("<ObjectLockEnabled>Enabled</ObjectLockEnabled>")
    }

    /// Holds the object's current version until `until` (`PutObjectRetention`, with the Content-MD5 S3 asks
    /// of it). Never shortens a retention already there: an existing later date is kept, and only turned from
    /// governance into compliance when asked (with the bypass header governance needs for any change of mode).
    public func retain(_ key: String, until: Date, compliance: Bool) async throws(StoreError) {
        let current = try await retention(of: key)
        if let current, current.until >= until, current.compliance || !compliance { return }
        let target = max(until, current?.until ?? until)
        // Compliance already there stays compliance (S3 refuses the change back). Governance into compliance
        // is a change of mode, which governance lets only a bypassing client make; extending needs no bypass.
        try await putRetention(
            key, until: target, compliance: compliance || current?.compliance == true,
            bypass: current?.compliance == false && compliance)
    }

    public func shortenGovernance(_ key: String, to date: Date) async throws(StoreError) -> Bool {
        guard let current = try await retention(of: key), !current.compliance, current.until > date else {
            return false
        }
        try await putRetention(key, until: date, compliance: false, bypass: true)
        return true
    }

    /// `PutObjectRetention`, with the Content-MD5 S3 asks of it.
    private func putRetention(_ key: String, until: Date, compliance: Bool, bypass: Bool) async throws(StoreError) {
        let body = Data(
            """
            <Retention xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Mode>\(compliance ? "COMPLIANCE" : "GOVERNANCE")</Mode>\
            <RetainUntilDate>\(ISO8601DateFormatter().string(from: until))</RetainUntilDate></Retention>
            """.utf8)
        var headers = ["content-md5": Data(Insecure.MD5.hash(data: body)).base64EncodedString()]
        if bypass { headers["x-amz-bypass-governance-retention"] = "true" }
        _ = try await send(
            "PUT", path: objectPath(key), query: [("retention", "")], body: body, expect: [200],
            extraHeaders: headers, what: "PutObjectRetention \(key)")
    }

    /// Until when the object's current version is retained, or nil (none, or a bucket without object lock).
    public func retainedUntil(_ key: String) async throws(StoreError) -> Date? {
        try await retention(of: key)?.until
    }

    /// The current version's retention: its date and whether it is compliance mode.
    func retention(of key: String) async throws(StoreError) -> (until: Date, compliance: Bool)? {
        let reply = try await send(
            "GET", path: objectPath(key), query: [("retention", "")], body: Data(), expect: [200, 400, 404],
            what: "GetObjectRetention \(key)")
        guard reply.status == 200 else { return nil }
        let text = String(decoding: reply.body, as: UTF8.self)
        let compliance = text.contains("<Mode>COMPLIANCE</Mode>")
        guard let start = text.range(of: "<RetainUntilDate>"), let end = text.range(of: "</RetainUntilDate>"),
            start.upperBound <= end.lowerBound
        else { return nil }
        let value = String(text[start.upperBound..<end.lowerBound])
        let precise = ISO8601DateFormatter()
        precise.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return (precise.date(from: value) ?? ISO8601DateFormatter().date(from: value)).map { ($0, compliance) }
    }

    /// Deletes the old versions (and delete markers) a versioned bucket keeps under the store's prefix, by
    /// version id; a version still under retention is refused by S3 and kept, and then so is its key's delete
    /// marker (removing the marker would bring the object back). Returns how many went and how many stay.
    public func removeOldVersions() async throws(StoreError) -> (removed: Int, kept: Int) {
        var byKey: [String: [ObjectVersion]] = [:]
        for version in try await versions() where !version.isLatest || version.isDeleteMarker {
            byKey[version.key, default: []].append(version)
        }
        var removed = 0
        var kept = 0
        for (key, versions) in byKey {
            var locked = false
            for version in versions where !version.isDeleteMarker {
                if try await deleteVersion(key, version.id) {
                    removed += 1
                } else {
                    locked = true
                    kept += 1
                }
            }
            guard !locked else { continue }
            for version in versions where version.isDeleteMarker {
                if try await deleteVersion(key, version.id) { removed += 1 } else { kept += 1 }
            }
        }
        return (removed, kept)
    }

    /// Every version under the store's prefix (`ListObjectVersions`, page by page).
    func versions() async throws(StoreError) -> [ObjectVersion] {
        var versions: [ObjectVersion] = []
        var keyMarker: String?
        var versionMarker: String?
        repeat {
            var query = [("versions", ""), ("prefix", s3.objectKey(""))]
            if let keyMarker { query.append(("key-marker", keyMarker)) }
            if let versionMarker { query.append(("version-id-marker", versionMarker)) }
            let reply = try await send("GET", path: "/\(s3.bucket)", query: query, body: Data(), expect: [200])
            let page = try ListVersionsResult(reply.body, from: s3.description)
            versions += page.versions
            (keyMarker, versionMarker) = page.truncated ? (page.nextKeyMarker, page.nextVersionMarker) : (nil, nil)
        } while keyMarker != nil
        return versions
    }

    /// False when S3 refuses because the version is under retention.
    private func deleteVersion(_ objectKey: String, _ versionId: String) async throws(StoreError) -> Bool {
        let reply = try await send(
            "DELETE", path: "/\(s3.bucket)/" + SigV4.uriEncode(objectKey, keepSlash: true),
            query: [("versionId", versionId)], body: Data(), expect: [200, 204, 403, 404],
            what: "DELETE \(objectKey) version \(versionId)")
        return reply.status != 403
    }

    private func objectPath(_ key: String) -> String {
        "/\(s3.bucket)/" + SigV4.uriEncode(s3.objectKey(key), keepSlash: true)
    }
}

/// One version of an object in a versioned bucket (`key` is the bucket's whole key).
struct ObjectVersion: Sendable, Equatable {
    var key: String
    var id: String
    var isLatest: Bool
    var isDeleteMarker: Bool
}

/// A ListObjectVersions answer.
struct ListVersionsResult {
    var versions: [ObjectVersion] = []
    var truncated = false
    var nextKeyMarker: String?
    var nextVersionMarker: String?

    init(_ data: Data, from source: String) throws(StoreError) {
        let parser = XMLParser(data: data)
        let delegate = Delegate()
        parser.delegate = delegate
        guard parser.parse(), delegate.sawResult else {
            throw StoreError(.io, "\(source) sent a version listing that does not parse; try again")
        }
        guard !delegate.truncated || delegate.nextKeyMarker != nil else {
            throw StoreError(.io, "\(source) sent a truncated version listing without a marker; try again")
        }
        versions = delegate.versions
        truncated = delegate.truncated
        nextKeyMarker = delegate.nextKeyMarker
        nextVersionMarker = delegate.nextVersionMarker
    }

    private final class Delegate: NSObject, XMLParserDelegate {
        var versions: [ObjectVersion] = []
        var truncated = false
        var nextKeyMarker: String?
        var nextVersionMarker: String?
        var sawResult = false
        private var current: ObjectVersion?
        private var text = ""

        func parser(
            _ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
            qualifiedName: String?, attributes: [String: String] = [:]
        ) {
            text = ""
            if elementName == "Version" || elementName == "DeleteMarker" {
                current = ObjectVersion(key: "", id: "", isLatest: false, isDeleteMarker: elementName == "DeleteMarker")
            }
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) { text += string }

        func parser(
            _ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?,
            qualifiedName: String?
        ) {
            switch elementName {
            case "Key": current?.key = text
            case "VersionId": current?.id = text
            case "IsLatest": current?.isLatest = text == "true"
            case "Version", "DeleteMarker":
                if let current { versions.append(current) }
                current = nil
            case "IsTruncated": truncated = text == "true"
            case "NextKeyMarker": nextKeyMarker = text
            case "NextVersionIdMarker": nextVersionMarker = text
            case "ListVersionsResult": sawResult = true
            default: break
            }
        }
    }
}
