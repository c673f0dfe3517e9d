import Foundation
import SnaplabCore

/// The lab's API access keys, in `STATE_DIR/credentials.json` (mode 0600), made by `snaplab credentials create`.
public struct AccessKeys: Sendable, Codable {
    public struct Key: Sendable, Codable, Equatable {
        public var accessKeyId: String
        public var secretAccessKey: String
        public var createdAt: Date
    }

    public var keys: [Key]

    public static func file(in paths: LabPaths) -> URL {
        paths.stateDirectory.appendingPathComponent("credentials.json")
    }

    /// The configured keys (none when the file does not exist).
    public static func load(_ paths: LabPaths) throws(SnaplabError) -> AccessKeys {
        let url = file(in: paths)
        guard FileManager.default.fileExists(atPath: url.path) else { return AccessKeys(keys: []) }
        do {
            let decoder = JSONDecoder()
            decoder.dateDecodingStrategy = .iso8601
            return try decoder.decode(AccessKeys.self, from: Data(contentsOf: url))
        } catch {
            throw SnaplabError(
                .invalidArgument,
                "\(url.path) is not a credentials file; remove it and run `snaplab credentials create`", cause: error)
        }
    }

    /// Adds a new random key pair and saves the file (readable by its owner only).
    public static func create(_ paths: LabPaths) throws(SnaplabError) -> Key {
        var current = try load(paths)
        let key = Key(
            accessKeyId: "AKIA" + random(16, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"),
            secretAccessKey: random(40, from: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"),
            createdAt: Date())
        current.keys.append(key)
        let url = file(in: paths)
        do {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            let temporary = url.appendingPathExtension("tmp")
            _ = FileManager.default.createFile(
                atPath: temporary.path, contents: try encoder.encode(current),
                attributes: [.posixPermissions: 0o600])
            if rename(temporary.path, url.path) != 0 { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        } catch {
            throw SnaplabError(.io, "cannot write \(url.path)", cause: error)
        }
        return key
    }

    func secret(for accessKeyId: String) -> String? {
        keys.first { $0.accessKeyId == accessKeyId }?.secretAccessKey
    }

    private static func random(_ count: Int, from alphabet: String) -> String {
        let characters = Array(alphabet)
        var generator = SystemRandomNumberGenerator()
        return String((0..<count).map { _ in characters[Int.random(in: 0..<characters.count, using: &generator)] })
    }
}
