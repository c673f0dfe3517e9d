import ArgumentParser
import Foundation
import Logging
import SnaplabCore
import Synchronization

/// Where the lab's state lives; shared by every command.
struct LabOptions: ParsableArguments {
    @Option(
        name: .customLong("state-dir"),
        help: "The lab's state directory (catalog, consoles, pool). Default: $SNAPLAB_STATE_DIR or /var/lib/snaplab.")
    var stateDirectory: String?

    @Option(
        name: .customLong("image-cache"),
        help: "Where image builds are cached. Default: $SNAPLAB_IMAGE_CACHE or STATE_DIR/image-cache.")
    var imageCache: String?

    @Option(
        name: .customLong("log-level"),
        help:
            "What the lab logs to stderr: trace, debug, info (one line per action), notice, warning, error, critical. Default: $SNAPLAB_LOG_LEVEL, else info for daemon, serve and export serve, notice for the rest."
    )
    var logLevel: String?

    @Option(
        name: .customLong("log-format"),
        help:
            "text, or json (one object per line with the resource ids as fields). Default: $SNAPLAB_LOG_FORMAT or text."
    )
    var logFormat: String?

    var paths: LabPaths {
        let environment = ProcessInfo.processInfo.environment
        let state = stateDirectory ?? environment["SNAPLAB_STATE_DIR"] ?? "/var/lib/snaplab"
        let cache = imageCache ?? environment["SNAPLAB_IMAGE_CACHE"]
        return LabPaths(
            stateDirectory: URL(fileURLWithPath: state),
            imageCache: cache.map { URL(fileURLWithPath: $0) })
    }

    /// Opens the lab (settling snapshots a killed process left pending); `SNAPLAB_STORE` selects the store.
    /// A long-running process (daemon, server) logs its actions by default; a one-shot command prints its result.
    func openLab(longRunning: Bool = false) async throws -> Lab {
        LogSetup.bootstrap(
            level: try resolvedLogLevel(default: longRunning ? .info : .notice), format: try resolvedLogFormat())
        let lab = try await Lab.open(paths: paths)
        lab.catalog.logActions(to: Logger(label: "snaplab.actions"))
        if let store = ProcessInfo.processInfo.environment["SNAPLAB_STORE"], try await lab.store.url() != store {
            try await lab.store.setURL(store)
        }
        return lab
    }
}

extension LabOptions {
    func resolvedLogLevel(default fallback: Logger.Level) throws -> Logger.Level {
        let (named, source) =
            logLevel.map { ($0, "--log-level") }
            ?? ProcessInfo.processInfo.environment["SNAPLAB_LOG_LEVEL"].map { ($0, "SNAPLAB_LOG_LEVEL") }
            ?? (fallback.rawValue, "")
        guard let level = Logger.Level(rawValue: named) else {
            let levels = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ValidationError("\(source) \(named) is not one of \(levels)")
        }
        return level
    }

    func resolvedLogFormat() throws -> LogSetup.Format {
        let named = logFormat ?? ProcessInfo.processInfo.environment["SNAPLAB_LOG_FORMAT"] ?? "text"
        guard let format = LogSetup.Format(rawValue: named) else {
            throw ValidationError("log format \(named) is not one of text, json")
        }
        return format
    }
}

/// Sets the level and form of every logger the process makes (swift-log lets a process choose its handler once).
enum LogSetup {
    enum Format: String {
        case text
        case json
    }

    private static let done = Mutex(false)

    static func bootstrap(level: Logger.Level, format: Format = .text) {
        done.withLock { done in
            guard !done else { return }
            done = true
            LoggingSystem.bootstrap { label in
                switch format {
                case .text:
                    var handler = StreamLogHandler.standardError(label: label)
                    handler.logLevel = level
                    return handler
                case .json:
                    return JSONLogHandler(label: label, logLevel: level)
                }
            }
        }
    }
}

/// `--output table|json` for commands that show resources.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table
    case json
}

/// Parses repeated `--tag KEY=VALUE` options.
enum TagParser {
    static func parse(_ tags: [String]) throws -> [String: String] {
        var result: [String: String] = [:]
        for tag in tags {
            guard let equals = tag.firstIndex(of: "="), equals != tag.startIndex else {
                throw ValidationError("tag '\(tag)' is not KEY=VALUE")
            }
            result[String(tag[..<equals])] = String(tag[tag.index(after: equals)...])
        }
        do {
            try TagRules.checkUserTags(result)
        } catch {
            throw ValidationError(error.message)
        }
        return result
    }
}

/// Runs a check inside `validate()`, turning the core's argument errors into usage errors.
func validating<T>(_ body: () throws -> T) throws -> T {
    do {
        return try body()
    } catch let error as SnaplabError {
        throw ValidationError(error.message)
    }
}
