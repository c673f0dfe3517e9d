import Crypto
import Foundation
import SnaplabCore
import _CryptoExtras

/// The console's password, kept as an scrypt hash in `STATE_DIR/console-password.json` (mode 0600), set with
/// `snaplab credentials console-password`. A browser signs in with it and gets a session cookie; it never
/// holds an access key's secret.
public struct ConsolePassword: Sendable, Codable {
    var salt: Data
    /// scrypt's N, r and p.
    var rounds: Int
    var blockSize: Int
    var parallelism: Int
    var hash: Data

    public static let minimumLength = 12

    public static func file(in paths: LabPaths) -> URL {
        paths.stateDirectory.appendingPathComponent("console-password.json")
    }

    /// Hashes and saves a new password (readable by its owner only), replacing the old one.
    public static func set(_ password: String, paths: LabPaths) throws(SnaplabError) {
        guard password.count >= minimumLength else {
            throw SnaplabError(.invalidArgument, "the console password needs at least \(minimumLength) characters")
        }
        var generator = SystemRandomNumberGenerator()
        let salt = Data((0..<16).map { _ in UInt8.random(in: 0...255, using: &generator) })
        var stored = ConsolePassword(salt: salt, rounds: 1 << 15, blockSize: 8, parallelism: 1, hash: Data())
        stored.hash = try stored.derive(password)
        let url = file(in: paths)
        do {
            let temporary = url.appendingPathExtension("tmp")
            guard
                FileManager.default.createFile(
                    atPath: temporary.path, contents: try JSONEncoder().encode(stored),
                    attributes: [.posixPermissions: 0o600])
            else { throw POSIXError(.EIO) }
            if rename(temporary.path, url.path) != 0 { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        } catch {
            throw SnaplabError(.io, "cannot write \(url.path)", cause: error)
        }
    }

    /// The saved password's hash, or nil when none is set.
    public static func load(_ paths: LabPaths) throws(SnaplabError) -> ConsolePassword? {
        let url = file(in: paths)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(ConsolePassword.self, from: Data(contentsOf: url))
        } catch {
            throw SnaplabError(
                .invalidArgument,
                "\(url.path) is not a console password file; set a new one with `snaplab credentials console-password`",
                cause: error)
        }
    }

    /// Whether `candidate` is the password (compared in constant time).
    func matches(_ candidate: String) -> Bool {
        guard let derived = try? derive(candidate) else { return false }
        return ConstantTime.equal(derived.base64EncodedString(), hash.base64EncodedString())
    }

    private func derive(_ password: String) throws(SnaplabError) -> Data {
        do {
            let key = try KDF.Scrypt.deriveKey(
                from: Data(password.utf8), salt: salt, outputByteCount: 32, rounds: rounds, blockSize: blockSize,
                parallelism: parallelism, maxMemory: 256 << 20)
            return key.withUnsafeBytes { Data($0) }
        } catch {
            throw SnaplabError(.internal, "cannot hash the console password", cause: error)
        }
    }
}
