import Foundation

extension SnapshotStore {
    /// Stores a blob (a kernel, an initramfs) by its SHA-256 and returns the digest; storing it again is free.
    public func putArtifact(_ data: Data) async throws(StoreError) -> String {
        let digest = ChunkHash.of(data).hex
        let key = StoreLayout.artifact(digest)
        if try await backend.exists(key) { return digest }
        try await backend.put(key, try sealed(data, key: key))
        return digest
    }

    /// A blob by digest, checked against it.
    public func artifact(_ digest: String) async throws(StoreError) -> Data {
        guard ChunkHash(hex: digest) != nil else { throw StoreError(.notFound, "'\(digest)' is not a SHA-256 digest") }
        let key = StoreLayout.artifact(digest)
        let data = try opened(try await backend.get(key), key: key)
        guard ChunkHash.of(data).hex == digest else {
            throw StoreError(.corrupt, "artifact \(digest) does not match its digest; the store is damaged")
        }
        return data
    }

    /// Small JSON documents the controller keeps next to the snapshots (image definitions), so that every
    /// host reaching the store — and a rebuilt catalog — sees them. `kind` and `id` are single path components.
    public func putDocument(kind: String, id: String, _ data: Data) async throws(StoreError) {
        try Self.checkId(kind)
        try Self.checkId(id)
        let key = "\(StoreLayout.documentsPrefix)\(kind)/\(id).json"
        try await backend.put(key, try sealed(data, key: key))
    }

    public func document(kind: String, id: String) async throws(StoreError) -> Data {
        try Self.checkId(kind)
        try Self.checkId(id)
        let key = "\(StoreLayout.documentsPrefix)\(kind)/\(id).json"
        return try opened(try await backend.get(key), key: key)
    }

    public func documentIds(kind: String) async throws(StoreError) -> [String] {
        try Self.checkId(kind)
        let prefix = "\(StoreLayout.documentsPrefix)\(kind)/"
        return try await backend.list(prefix: prefix).compactMap { key in
            guard key.hasPrefix(prefix), key.hasSuffix(".json") else { return nil }
            return String(key.dropFirst(prefix.count).dropLast(".json".count))
        }.sorted()
    }

    public func deleteDocument(kind: String, id: String) async throws(StoreError) {
        try Self.checkId(kind)
        try Self.checkId(id)
        try await backend.delete("\(StoreLayout.documentsPrefix)\(kind)/\(id).json")
    }
}
