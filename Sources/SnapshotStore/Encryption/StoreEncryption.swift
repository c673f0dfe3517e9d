import Crypto
import Foundation
import _CryptoExtras

/// One wrapping of an encrypted store's master key: the master key sealed (AES-256-GCM) by a key derived from a
/// key file (HKDF-SHA-256) or a passphrase (scrypt). A store has one or more; any of them unlocks it (like
/// restic's keys). The wrapping's own fields are authenticated with it.
public struct WrappedStoreKey: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable {
        case keyFile = "key-file"
        case passphrase
    }

    public var id: String
    public var kind: Kind
    /// Base64 salt of the key derivation.
    public var salt: String
    /// scrypt's log2 N, r and p (passphrase only).
    public var scryptLogN: Int?
    public var scryptR: Int?
    public var scryptP: Int?
    /// Base64 of nonce, sealed master key and tag.
    public var sealed: String
    public var createdAt: Date
    public var note: String?

    static let scryptLogN = 15
    static let scryptR = 8
    static let scryptP = 1

    /// Seals `master` for `source`.
    static func wrap(_ master: SymmetricKey, for source: StoreKeySource, note: String?) throws(StoreError)
        -> WrappedStoreKey
    {
        var salt = Data(count: 32)
        salt.withUnsafeMutableBytes { bytes in
            var generator = SystemRandomNumberGenerator()
            for index in bytes.indices { bytes[index] = UInt8.random(in: 0...255, using: &generator) }
        }
        var wrapped = WrappedStoreKey(
            id: "key-" + String(UInt64.random(in: 0...UInt64.max), radix: 16), kind: source.kind,
            salt: salt.base64EncodedString(), sealed: "", createdAt: StoreDates.round(Date()), note: note)
        if source.kind == .passphrase {
            wrapped.scryptLogN = scryptLogN
            wrapped.scryptR = scryptR
            wrapped.scryptP = scryptP
        }
        let key = try wrapped.wrappingKey(source)
        do {
            let box = try AES.GCM.seal(master.withUnsafeBytes { Data($0) }, using: key, authenticating: wrapped.header)
            wrapped.sealed = (box.combined ?? Data()).base64EncodedString()
        } catch {
            throw StoreError(.io, "cannot seal the store's master key", cause: error)
        }
        return wrapped
    }

    /// The master key, when `source` is this wrapping's; nil when it is another key.
    func unwrap(_ source: StoreKeySource) throws(StoreError) -> SymmetricKey? {
        guard source.kind == kind, let sealedBytes = Data(base64Encoded: sealed) else { return nil }
        let key = try wrappingKey(source)
        do {
            let box = try AES.GCM.SealedBox(combined: sealedBytes)
            return SymmetricKey(data: try AES.GCM.open(box, using: key, authenticating: header))
        } catch {
            return nil
        }
    }

    /// What the seal authenticates besides the key: the wrapping's id, kind and derivation.
    private var header: Data {
        Data("\(id)|\(kind.rawValue)|\(salt)|\(scryptLogN ?? 0)|\(scryptR ?? 0)|\(scryptP ?? 0)".utf8)
    }

    private func wrappingKey(_ source: StoreKeySource) throws(StoreError) -> SymmetricKey {
        guard let saltBytes = Data(base64Encoded: salt) else {
            throw StoreError(.corrupt, "key \(id) in config.json has a damaged salt")
        }
        switch source {
        case .keyFile:
            let material = try source.keyFileBytes()
            return HKDF<SHA256>.deriveKey(
                inputKeyMaterial: SymmetricKey(data: material), salt: saltBytes,
                info: Data("snaplab store key file".utf8), outputByteCount: 32)
        case .passphrase(let passphrase):
            guard let logN = scryptLogN, let r = scryptR, let p = scryptP, (10...20).contains(logN),
                (1...32).contains(r),
                (1...16).contains(p)
            else {
                throw StoreError(.corrupt, "key \(id) in config.json has impossible scrypt parameters")
            }
            do {
                return try KDF.Scrypt.deriveKey(
                    from: Data(passphrase.utf8), salt: saltBytes, outputByteCount: 32, rounds: 1 << logN,
                    blockSize: r, parallelism: p, maxMemory: 1 << 30)
            } catch {
                throw StoreError(.io, "scrypt failed for key \(id)", cause: error)
            }
        }
    }
}

/// The encryption part of `config.json`: the cipher, how chunks are named, the wrappings of the master key, and
/// a MAC (under a key derived from the master key) over everything else in the config, so a changed chunk
/// size, cipher or naming fails to open.
public struct StoreEncryption: Codable, Sendable, Equatable {
    public static let cipherName = "aes-256-gcm"
    public static let namingName = "hmac-sha256"

    public var cipher: String
    public var chunkNames: String
    public var keys: [WrappedStoreKey]
    public var mac: String

    init(keys: [WrappedStoreKey]) {
        cipher = Self.cipherName
        chunkNames = Self.namingName
        self.keys = keys
        mac = ""
    }

    /// What the MAC covers: every field of the config but the list of wrappings (which `key add` changes).
    static func macInput(_ config: StoreConfig) -> Data {
        let created = StoreDates.format(config.createdAt)
        let cipher = config.encryption?.cipher ?? ""
        let names = config.encryption?.chunkNames ?? ""
        return Data(
            "\(config.format)|\(config.version)|\(config.chunkSize)|\(config.packSize)|\(created)|\(cipher)|\(names)"
                .utf8)
    }
}

extension StoreConfig {
    /// A new encrypted store's config, its master key wrapped for `source`; returns the config and its keys.
    static func encrypted(_ source: StoreKeySource, note: String?) throws(StoreError) -> (StoreConfig, StoreKeys) {
        let master = SymmetricKey(size: .bits256)
        var config = StoreConfig()
        config.encryption = StoreEncryption(keys: [try WrappedStoreKey.wrap(master, for: source, note: note)])
        let keys = StoreKeys(master: master)
        let mac = keys.mac(StoreEncryption.macInput(config))
        config.encryption?.mac = mac
        return (config, keys)
    }

    /// Opens an encrypted config with `source`: the keys, or a clear error.
    func unlock(_ source: StoreKeySource?, at location: String) throws(StoreError) -> StoreKeys {
        guard let encryption else { throw StoreError(.unsupported, "\(location) is not encrypted") }
        guard encryption.cipher == StoreEncryption.cipherName, encryption.chunkNames == StoreEncryption.namingName
        else {
            throw StoreError(
                .unsupported,
                "\(location) is encrypted with \(encryption.cipher)/\(encryption.chunkNames); this snaplab knows \(StoreEncryption.cipherName)/\(StoreEncryption.namingName)"
            )
        }
        guard let source else {
            throw StoreError(
                .keyRequired,
                "\(location) is encrypted: give its key file (SNAPLAB_STORE_KEY_FILE or --key-file) or passphrase (SNAPLAB_STORE_PASSPHRASE)"
            )
        }
        for wrapped in encryption.keys {
            guard let master = try wrapped.unwrap(source) else { continue }
            let keys = StoreKeys(master: master)
            guard keys.isValidMAC(encryption.mac, for: StoreEncryption.macInput(self)) else {
                throw StoreError(
                    .corrupt,
                    "\(location)/config.json fails authentication: its settings were changed after the store was made")
            }
            return keys
        }
        throw StoreError(
            .keyRequired,
            "\(source.description) opens none of the \(encryption.keys.count) key(s) of \(location): wrong key (`snaplab store key list` shows them)"
        )
    }
}
