import ArgumentParser
import Foundation
import SnaplabCore

extension SnapshotCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List snapshots (oldest first), filtered in the catalog.")

        @OptionGroup var lab: LabOptions
        @Option(help: "Only snapshots of this volume.") var volume: String?
        @Option(help: "Only snapshots in this state (pending, completed, error).") var state: String?
        @Option(name: .customLong("tag"), help: "KEY=VALUE, or KEY to ask only that the tag be there; repeatable.")
        var tags: [String] = []
        @Option(help: "Only snapshots taken since: an ISO 8601 date or time, or an age such as 90m, 12h, 7d.")
        var since: String?
        @Option(help: "Only the newest N.") var limit: Int?
        @Flag(help: "List the recycle bin instead: deleted snapshots still recoverable, and until when.")
        var recycleBin = false
        @Flag(help: "Only snapshots under a lock in force, with the lock.") var locked = false
        @Option var output: OutputFormat = .table

        func validate() throws {
            _ = try query()
        }

        func run() async throws {
            if recycleBin { return try await listRecycleBin() }
            if locked { return try await listLocked() }
            let catalog = try await lab.openLab().catalog
            let query = try query()
            if output == .json, query.limit == nil { return try await streamJSON(catalog, query) }
            let snapshots = try await catalog.snapshots(matching: query)
            if output == .json { return FileHandle.standardOutput.write(Data(Snapshot.jsonArray(snapshots))) }
            Printer.table(SnapshotCommand.header, snapshots.map(SnapshotCommand.row))
        }

        private func listRecycleBin() async throws {
            let entries = try await lab.openLab().snapshots.recycleBin()
            if output == .json { return try Printer.json(entries) }
            let format = ISO8601DateFormatter()
            Printer.table(
                ["ID", "VOLUME", "ROLE", "SIZE", "CREATED", "DELETED", "RECOVERABLE UNTIL", "RULE"],
                entries.map { entry in
                    [
                        entry.snapshot.id, entry.snapshot.volumeId, entry.snapshot.volumeRole.rawValue,
                        ByteSize.format(entry.snapshot.volumeSize), format.string(from: entry.snapshot.createdAt),
                        format.string(from: entry.deletedAt), format.string(from: entry.retainUntil), entry.ruleId,
                    ]
                })
        }

        private func listLocked() async throws {
            let now = Date()
            let snapshots = try await lab.openLab().snapshots.locked(at: now)
            if output == .json { return FileHandle.standardOutput.write(Data(Snapshot.jsonArray(snapshots))) }
            let format = ISO8601DateFormatter()
            Printer.table(
                ["ID", "VOLUME", "LOCK", "UNTIL", "COOL-OFF UNTIL"],
                snapshots.map { snapshot in
                    let lock = snapshot.lock!
                    return [
                        snapshot.id, snapshot.volumeId, lock.state(at: now).rawValue,
                        format.string(from: lock.expiresAt),
                        lock.coolOffEndsAt.map(format.string) ?? "",
                    ]
                })
        }

        /// Every match as one JSON array, a page of the catalog at a time: memory stays at one page.
        private func streamJSON(_ catalog: Catalog, _ query: SnapshotQuery) async throws {
            var json = JSONWriter(capacity: 1 << 20)
            json.beginArray()
            var token: PageToken?
            repeat {
                let page = try await catalog.snapshots(matching: query, pageSize: 1000, after: token)
                for snapshot in page.items {
                    json.newline()
                    snapshot.writeJSON(into: &json)
                }
                FileHandle.standardOutput.write(Data(json.bytes))
                json.removeAll(continuingAfterValue: true)
                token = page.next
            } while token != nil
            json.raw("\n")
            json.endArray()
            json.raw("\n")
            FileHandle.standardOutput.write(Data(json.bytes))
        }

        func query() throws -> SnapshotQuery {
            var query = SnapshotQuery(volumeIds: volume.map { [$0] } ?? [])
            if let state {
                guard let parsed = SnapshotState(rawValue: state) else {
                    throw ValidationError("--state \(state) is not pending, completed or error")
                }
                query.states = [parsed]
            }
            for tag in tags {
                guard let filter = TagFilter(parsing: tag) else { throw ValidationError("--tag '\(tag)' names no key") }
                query.tags.append(filter)
            }
            if let since { query.since = try Self.instant(since, now: Date()) }
            if let limit {
                guard limit > 0 else { throw ValidationError("--limit must be at least 1") }
                query.limit = limit
            }
            return query
        }

        /// `2026-12-01`, `2026-12-01T10:00:00Z`, or an age back from `now` (`90m`, `12h`, `7d`).
        static func instant(_ text: String, now: Date) throws -> Date {
            if let unit = text.last, let amount = Double(text.dropLast()), amount >= 0,
                let seconds = ["m": 60.0, "h": 3600.0, "d": 86400.0][String(unit)]
            {
                return now.addingTimeInterval(-amount * seconds)
            }
            let full = ISO8601DateFormatter()
            if let date = full.date(from: text) { return date }
            let day = ISO8601DateFormatter()
            day.formatOptions = [.withFullDate]
            if let date = day.date(from: text) { return date }
            throw ValidationError("--since \(text) is neither an ISO 8601 date or time nor an age such as 12h or 7d")
        }
    }
}
