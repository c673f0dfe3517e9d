import ArgumentParser
import Foundation
import SnaplabCore

/// `snaplab events`: the catalog's event log, oldest first; `--follow` keeps printing what happens next.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Show the lab's event log: resources created, state changes, deletions (like `incus monitor`).",
        discussion: """
            The log lives in the catalog (the newest \(100_000) events), so it survives restarts and shows what \
            any process did. --output json prints one JSON object per line (JSON Lines), also when following.
            """)

    @OptionGroup var lab: LabOptions
    @Option(help: "Only events after this sequence number (default: the last --limit).") var after: Int64?
    @Option(help: "Only the events of this resource (vol-…, i-…, snap-…, ami-…, pol-…).") var resource: String?
    @Option(help: "At most this many events (before following).") var limit = 50
    @Flag(help: "Keep printing new events until interrupted.") var follow = false
    @Option var output: OutputFormat = .table

    func validate() throws {
        if !(1...10_000).contains(limit) { throw ValidationError("--limit must be 1–10000") }
    }

    func run() async throws {
        let catalog = try await lab.openLab().catalog
        var cursor: Int64
        if let after {
            cursor = after
        } else {
            // The last `limit` events: start that far before the newest.
            cursor = max(0, try await catalog.latestEventSeq() - Int64(limit))
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        var first = true
        repeat {
            let events = try await catalog.events(after: cursor, resourceId: resource, limit: first ? limit : 1000)
            if output == .json {
                // Written unbuffered, line by line, for whoever reads a follow through a pipe.
                for event in events {
                    FileHandle.standardOutput.write(try encoder.encode(event) + Data("\n".utf8))
                }
            } else if first {
                Printer.table(Self.header, events.map(Self.row))
                fflush(nil)
            } else {
                for event in events {
                    FileHandle.standardOutput.write(Data((Self.row(event).joined(separator: "  ") + "\n").utf8))
                }
            }
            // Filtered by resource, the page may end early: move the cursor to what was read, not past it.
            cursor = events.last?.seq ?? cursor
            first = false
            if follow, events.isEmpty { try await Task.sleep(for: .milliseconds(500)) }
        } while follow && !Task.isCancelled
    }

    static let header = ["SEQ", "AT", "KIND", "RESOURCE", "ACTION", "FROM", "TO", "REASON"]

    static func row(_ event: CatalogEvent) -> [String] {
        [
            "\(event.seq)", Printer.date(event.at), event.kind, event.resourceId, event.action,
            event.fromState ?? "-", event.toState ?? "-", event.reason ?? "",
        ]
    }
}
