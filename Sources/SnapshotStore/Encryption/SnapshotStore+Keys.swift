import Foundation

extension SnapshotStore {
    /// The wrappings of an encrypted store's master key, as `config.json` has them now.
    public func wrappedKeys() async throws(StoreError) -> [WrappedStoreKey] {
        try await currentConfig().encryption?.keys ?? []
    }

    /// Wraps the master key for one more key file or passphrase (the store must be open, so unlocked).
    public func addKey(_ source: StoreKeySource, note: String?) async throws(StoreError) -> WrappedStoreKey {
        guard let keys else { throw StoreError(.unsupported, "\(backend.location) is not encrypted") }
        let wrapped = try WrappedStoreKey.wrap(keys.master, for: source, note: note)
        try await withStoreLock(exclusive: true, timeout: .seconds(600)) { () async throws(StoreError) in
            var config = try await currentConfig()
            config.encryption?.keys.append(wrapped)
            try await write(config)
        }
        return wrapped
    }

    /// Removes one wrapping. The last one cannot go (the store could never be opened again). What it does not
    /// undo: a copy of the master key someone already took with that key.
    public func removeKey(_ id: String) async throws(StoreError) {
        guard isEncrypted else { throw StoreError(.unsupported, "\(backend.location) is not encrypted") }
        try await withStoreLock(exclusive: true, timeout: .seconds(600)) { () async throws(StoreError) in
            try await removeKeyLocked(id)
        }
    }

    private func removeKeyLocked(_ id: String) async throws(StoreError) {
        var config = try await currentConfig()
        guard let keysNow = config.encryption?.keys, keysNow.contains(where: { $0.id == id }) else {
            throw StoreError(.notFound, "\(backend.location) has no key \(id); `snaplab store key list` shows them")
        }
        guard keysNow.count > 1 else {
            throw StoreError(
                .busy,
                "\(id) is the store's only key: add another first (`snaplab store key add`), or nobody could open it")
        }
        config.encryption?.keys.removeAll { $0.id == id }
        try await write(config)
    }

    private func currentConfig() async throws(StoreError) -> StoreConfig {
        do {
            return try JSONDecoder.store.decode(StoreConfig.self, from: try await backend.get(StoreLayout.config))
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(.corrupt, "\(backend.location)/config.json does not parse", cause: error)
        }
    }

    private func write(_ config: StoreConfig) async throws(StoreError) {
        try await Self.writeConfig(config, to: backend)
    }
}
