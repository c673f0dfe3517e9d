import Foundation
import Subprocess
import SystemPackage

/// The lab's convention for running a program to completion on top of swift-subprocess (which waits for the
/// child and drains its pipes without holding a concurrency thread): a non-zero exit or a signal is a `Failure`
/// carrying the tail of what the program said.
enum ChildProcess {
    struct Failure: Error, Sendable {
        let status: Int32
        let logTail: String
    }

    /// Runs `executable` with `arguments`, its stdout and stderr going to `log`; returns when it exits.
    static func run(
        _ executable: String, _ arguments: [String], environment: [String: String] = [:],
        currentDirectory: URL? = nil, log: URL
    ) async throws {
        let descriptor = try FileDescriptor.open(
            FilePath(log.path), .writeOnly, options: [.create, .truncate], permissions: [.ownerReadWrite, .groupRead])
        defer { try? descriptor.close() }
        let status = try await spawnLogging(
            executable, arguments, environment: inherited(adding: environment),
            workingDirectory: currentDirectory.map { FilePath($0.path) }, log: descriptor)
        if let status = failureStatus(status) {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            let tail = text.split(whereSeparator: \.isNewline).suffix(20).joined(separator: "\n")
            throw Failure(status: status, logTail: tail)
        }
    }

    /// Runs a program and returns its standard output; a failure carries its standard error.
    static func output(_ executable: String, _ arguments: [String]) async throws -> Data {
        let (status, output, errors) = try await spawnCollecting(executable, arguments, limit: outputLimit)
        if let status = failureStatus(status) {
            throw Failure(status: status, logTail: String(decoding: errors, as: UTF8.self))
        }
        return output
    }

    /// What `output` keeps of each stream (the programs it runs print JSON or a few lines).
    static let outputLimit = 256 << 20

    private static func inherited(adding variables: [String: String]) -> Environment {
        var changes: [Environment.Key: String?] = [:]
        for (name, value) in variables {
            if let key = Environment.Key(rawValue: name) { changes[key] = value }
        }
        return .inherit.updating(changes)
    }

    /// nil for a clean exit; otherwise the exit status (or 128 + the signal, as a shell reports it).
    private static func failureStatus(_ status: TerminationStatus) -> Int32? {
        switch status {
        case .exited(let code): code == 0 ? nil : Int32(code)
        case .signaled(let signal): 128 + Int32(signal)
        }
    }
}

// At file scope `run` is swift-subprocess's (inside `ChildProcess` its own `run` would be found first).

private func spawnLogging(
    _ executable: String, _ arguments: [String], environment: Environment, workingDirectory: FilePath?,
    log: FileDescriptor
) async throws -> TerminationStatus {
    try await run(
        .path(FilePath(executable)), arguments: Arguments(arguments), environment: environment,
        workingDirectory: workingDirectory, output: .fileDescriptor(log, closeAfterSpawningProcess: false),
        error: .combinedWithOutput
    ).terminationStatus
}

private func spawnCollecting(_ executable: String, _ arguments: [String], limit: Int) async throws
    -> (TerminationStatus, Data, Data)
{
    let result = try await run(
        .path(FilePath(executable)), arguments: Arguments(arguments), output: .data(limit: limit),
        error: .data(limit: limit))
    return (result.terminationStatus, result.standardOutput, result.standardError)
}
