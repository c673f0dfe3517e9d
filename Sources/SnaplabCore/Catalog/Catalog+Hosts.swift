import GRDB

extension Catalog {
    public func save(_ host: Host) async throws(SnaplabError) {
        try await write { db in try host.save(db) }
    }

    public func host(named name: String) async throws(SnaplabError) -> Host {
        let host = try await read { db in try Host.fetchOne(db, key: name) }
        guard let host else {
            throw SnaplabError(.notFound, "no host '\(name)' in this lab; run `snaplab host init` first")
        }
        return host
    }

    public func hosts() async throws(SnaplabError) -> [Host] {
        try await read { db in try Host.order(Column("name")).fetchAll(db) }
    }
}
