import Foundation
import GRDB
import Logging
import Synchronization

/// The controller's SQLite database: every resource and its state. Owns the connection and migrates it on open.
public final class Catalog: Sendable {
    let writer: any DatabaseWriter
    /// Where this process logs the events its own writes made (nil: it does not).
    private let actionLog = Mutex<Logger?>(nil)

    /// Opens (creating if needed) the catalog at `path`, in WAL mode so readers never wait for the writer.
    public convenience init(path: String) throws(SnaplabError) {
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.label = "snaplab-catalog"
        do {
            try self.init(writer: DatabasePool(path: path, configuration: configuration))
        } catch let error as SnaplabError {
            throw error
        } catch {
            throw SnaplabError(
                .io, "cannot open the catalog at \(path); check that the directory exists and is writable",
                cause: error)
        }
    }

    /// A throw-away in-memory catalog (tests).
    public static func inMemory() throws(SnaplabError) -> Catalog {
        do {
            return try Catalog(writer: DatabaseQueue())
        } catch let error as SnaplabError {
            throw error
        } catch {
            throw SnaplabError(.io, "cannot create an in-memory catalog", cause: error)
        }
    }

    init(writer: any DatabaseWriter) throws {
        self.writer = writer
        try Self.migrator.migrate(writer)
    }

    func read<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(SnaplabError) -> T {
        do {
            return try await writer.read(body)
        } catch {
            throw Self.wrap(error)
        }
    }

    /// From now on, every event a write of this process makes is also one log line (at `info`, with the
    /// resource's id, kind and states as metadata): the log of a daemon or server then says what it did, in the
    /// same terms as the event log, without a log call at each write.
    public func logActions(to logger: Logger) {
        actionLog.withLock { $0 = logger }
    }

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(SnaplabError) -> T {
        guard let logger = actionLog.withLock({ $0 }), logger.logLevel <= .info else {
            do {
                return try await writer.write(body)
            } catch {
                throw Self.wrap(error)
            }
        }
        let (result, events): (T, [CatalogEvent])
        do {
            (result, events) = try await writer.write { db in
                // Inside the write transaction: the events after `before` are this transaction's own.
                let before = try Int64.fetchOne(db, sql: "SELECT max(seq) FROM events") ?? 0
                let result = try body(db)
                return (
                    result,
                    try CatalogEvent.fetchAll(db, sql: "SELECT * FROM events WHERE seq > ?", arguments: [before])
                )
            }
        } catch {
            throw Self.wrap(error)
        }
        for event in events { CatalogEventLog.log(event, to: logger) }
        return result
    }

    private static func wrap(_ error: any Error) -> SnaplabError {
        if let error = error as? SnaplabError { return error }
        return SnaplabError(
            .io, "the catalog could not be read or written: \(error)",
            cause: error)
    }
}
