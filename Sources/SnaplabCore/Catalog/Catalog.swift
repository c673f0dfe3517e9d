import Foundation
import GRDB

/// The controller's SQLite database: every resource and its state. Owns the connection and migrates it on open.
public final class Catalog: Sendable {
    let writer: any DatabaseWriter

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

    func write<T: Sendable>(_ body: @Sendable @escaping (Database) throws -> T) async throws(SnaplabError) -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw Self.wrap(error)
        }
    }

    private static func wrap(_ error: any Error) -> SnaplabError {
        if let error = error as? SnaplabError { return error }
        return SnaplabError(
            .io, "the catalog could not be read or written: \(error)",
            cause: error)
    }
}
