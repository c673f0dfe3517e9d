import Foundation

/// Runs a program to completion without blocking a concurrency thread; output goes to a log file.
enum Subprocess {
    struct Failure: Error, Sendable {
        let status: Int32
        let logTail: String
    }

    /// Runs `executable` with `arguments`; returns when it exits. Throws `Failure` with the log's tail on a
    /// non-zero exit.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:],
                    currentDirectory: URL? = nil, log: URL) async throws {
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        let logHandle = try FileHandle(forWritingTo: log)
        defer { try? logHandle.close() }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let currentDirectory { process.currentDirectoryURL = currentDirectory }
        process.standardOutput = logHandle
        process.standardError = logHandle
        process.standardInput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { finished in
                continuation.resume(returning: finished.terminationStatus)
            }
            do {
                try process.run()
            } catch {
                process.terminationHandler = nil
                continuation.resume(throwing: error)
            }
        }
        if status != 0 {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            let tail = text.split(whereSeparator: \.isNewline).suffix(20).joined(separator: "\n")
            throw Failure(status: status, logTail: tail)
        }
    }
}

extension Subprocess {
    /// Runs a program and returns its standard output; throws `Failure` (with its stderr) on a non-zero exit.
    /// Both pipes are drained while it runs (on the blocking pool), so a chatty program cannot fill one and stall.
    static func output(_ executable: String, _ arguments: [String]) async throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let (exits, exited) = AsyncStream.makeStream(of: Int32.self, bufferingPolicy: .unbounded)
        process.terminationHandler = { finished in
            exited.yield(finished.terminationStatus)
            exited.finish()
        }
        try process.run()
        let reader = out.fileHandleForReading
        let errorReader = err.fileHandleForReading
        async let stdout = BlockingPool.run { reader.readDataToEndOfFile() }
        async let stderr = BlockingPool.run { errorReader.readDataToEndOfFile() }
        let (output, errors) = try await (stdout, stderr)
        var status: Int32 = -1
        for await code in exits { status = code }
        guard status == 0 else {
            throw Failure(status: status, logTail: String(decoding: errors, as: UTF8.self))
        }
        return output
    }
}
