import Crypto
import Foundation

/// An encrypted store's working keys, derived from its master key (HKDF-SHA-256): one names chunks (HMAC-SHA-256
/// of the raw bytes, so equal chunks still share one id inside the store while ids say nothing to others), one
/// seals chunk payloads and objects (AES-256-GCM, a random 96-bit nonce each, the chunk id or the object's key
/// as associated data, so nothing can be moved to another place), one authenticates the config.
public struct StoreKeys: @unchecked Sendable {
    // @unchecked: SymmetricKey is an immutable value that swift-crypto has not marked Sendable.
    /// Nonce and tag around each sealed payload.
    public static let overhead = 12 + 16

    let naming: SymmetricKey
    let sealing: SymmetricKey
    let config: SymmetricKey
    /// Kept to wrap it for another key (`store key add`).
    let master: SymmetricKey

    init(master: SymmetricKey) {
        self.master = master
        func derive(_ label: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(
                inputKeyMaterial: master, info: Data("snaplab store \(label)".utf8), outputByteCount: 32)
        }
        naming = derive("chunk names")
        sealing = derive("sealing")
        config = derive("config")
    }

    func name(_ bytes: UnsafeRawBufferPointer) -> ChunkHash {
        HMAC<SHA256>.authenticationCode(for: bytes, using: naming).withUnsafeBytes { ChunkHash(bytes: $0) }
    }

    func mac(_ data: Data) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: data, using: config)).base64EncodedString()
    }

    /// Checks a MAC `mac` made, in constant time.
    func isValidMAC(_ mac: String, for data: Data) -> Bool {
        guard let bytes = Data(base64Encoded: mac) else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(bytes, authenticating: data, using: config)
    }

    /// Seals `payload` into `destination` (exactly `payload.count + overhead` bytes) with `context` as
    /// associated data.
    func seal(
        _ payload: UnsafeRawBufferPointer, context: UnsafeRawBufferPointer,
        into destination: UnsafeMutableRawBufferPointer
    )
        throws(StoreError)
    {
        precondition(destination.count == payload.count + Self.overhead)
        do {
            let box = try AES.GCM.seal(payload, using: sealing, nonce: AES.GCM.Nonce(), authenticating: context)
            var position = 0
            for part in [Data(box.nonce), box.ciphertext, box.tag] {
                part.withUnsafeBytes { bytes in
                    UnsafeMutableRawBufferPointer(rebasing: destination[position..<(position + bytes.count)])
                        .copyMemory(from: bytes)
                }
                position += part.count
            }
        } catch {
            throw StoreError(.io, "AES-GCM sealing failed", cause: error)
        }
    }

    /// Opens what `seal` made; nil when it does not authenticate (tampered, moved, or another store's).
    func open(_ sealed: UnsafeRawBufferPointer, context: UnsafeRawBufferPointer) -> Data? {
        guard sealed.count >= Self.overhead,
            let nonce = try? AES.GCM.Nonce(data: UnsafeRawBufferPointer(rebasing: sealed[0..<12])),
            let box = try? AES.GCM.SealedBox(
                nonce: nonce, ciphertext: UnsafeRawBufferPointer(rebasing: sealed[12..<(sealed.count - 16)]),
                tag: UnsafeRawBufferPointer(rebasing: sealed[(sealed.count - 16)...]))
        else { return nil }
        return try? AES.GCM.open(box, using: sealing, authenticating: context)
    }

    /// A whole object (manifest, document, artifact) sealed with its key as associated data.
    func sealObject(_ data: Data, key: String) throws(StoreError) -> Data {
        var sealed = Data(count: data.count + Self.overhead)
        try sealed.withMutableBytes { (destination) throws(StoreError) in
            try data.withBytes { (payload) throws(StoreError) in
                try Data(key.utf8).withBytes { (context) throws(StoreError) in
                    try seal(payload, context: context, into: destination)
                }
            }
        }
        return sealed
    }

    func openObject(_ sealed: Data, key: String, at location: String) throws(StoreError) -> Data {
        let opened = sealed.withUnsafeBytes { bytes in
            Data(key.utf8).withUnsafeBytes { context in open(bytes, context: context) }
        }
        guard let opened else {
            throw StoreError(
                .corrupt, "\(key) in \(location) fails authentication: it was changed, moved, or made with another key")
        }
        return opened
    }
}
