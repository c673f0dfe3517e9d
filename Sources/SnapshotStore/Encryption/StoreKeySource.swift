import Foundation

/// What unlocks an encrypted store: a key file (at least 32 bytes, kept 0600) or a passphrase.
public enum StoreKeySource: Sendable {
    case keyFile(URL)
    case passphrase(String)

    /// The environment's unlock: `SNAPLAB_STORE_KEY_FILE` (the unattended way: daemon, server, export service),
    /// else `SNAPLAB_STORE_PASSPHRASE`.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment)
        -> StoreKeySource?
    {
        if let path = environment["SNAPLAB_STORE_KEY_FILE"], !path.isEmpty {
            return .keyFile(URL(fileURLWithPath: path))
        }
        if let passphrase = environment["SNAPLAB_STORE_PASSPHRASE"], !passphrase.isEmpty {
            return .passphrase(passphrase)
        }
        return nil
    }

    var kind: WrappedStoreKey.Kind {
        switch self {
        case .keyFile: .keyFile
        case .passphrase: .passphrase
        }
    }

    var description: String {
        switch self {
        case .keyFile(let url): "key file \(url.path)"
        case .passphrase: "the passphrase"
        }
    }

    /// The key file's bytes, refused when missing, short, or readable by others.
    func keyFileBytes() throws(StoreError) -> Data {
        guard case .keyFile(let url) = self else { return Data() }
        var status = stat()
        guard stat(url.path, &status) == 0 else {
            throw StoreError(
                .keyRequired,
                "key file \(url.path) cannot be read (\(String(cString: strerror(errno)))); `snaplab store key generate FILE` makes one"
            )
        }
        guard status.st_mode & 0o077 == 0 else {
            throw StoreError(
                .keyRequired,
                "key file \(url.path) is readable by others (mode \(String(status.st_mode & 0o777, radix: 8))); `chmod 600 \(url.path)`"
            )
        }
        guard let data = FileManager.default.contents(atPath: url.path), data.count >= 32 else {
            throw StoreError(.keyRequired, "key file \(url.path) holds fewer than 32 bytes: it is not a key")
        }
        return data
    }

    /// Writes a new random 32-byte key file, mode 0600, refusing to overwrite one.
    public static func generateKeyFile(at url: URL) throws(StoreError) {
        var bytes = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.io, "cannot create key file \(url.path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let text = Data(bytes).base64EncodedString() + "\n"
        let written = text.withCString { write(descriptor, $0, strlen($0)) }
        guard written == text.utf8.count, fsync(descriptor) == 0 else {
            throw StoreError(.io, "cannot write key file \(url.path): \(String(cString: strerror(errno)))")
        }
    }
}
