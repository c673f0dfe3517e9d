import Foundation

/// A real Ceph cluster with its S3 gateway (radosgw) for tests: one monitor, one memstore OSD and one gateway on
/// loopback, all in a temporary directory (`scripts/ceph-cluster.sh`). Started once per test process, or on
/// demand. A small shell guardian stops the daemons and removes the directory when this process goes away (its
/// stdin closes) or when `stop()` is called.
public actor CephGateway {
    public static let shared = CephGateway()

    public struct Started: Sendable {
        public let endpoint: String
        /// The gateway user's credentials, in the form `S3Location.parse(_:environment:)` and the AWS CLI read.
        public let environment: [String: String]
        public let directory: URL
    }

    private var started: (process: Process, input: Pipe, info: Started)?
    private let address: String
    private let memstoreBytes: UInt64

    public init(address: String = "127.0.0.1", memstoreBytes: UInt64 = 2 << 30) {
        self.address = address
        self.memstoreBytes = memstoreBytes
    }

    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("scripts/ceph-cluster.sh")

    private var starting: Task<Started, any Error>?

    /// Starts the cluster, or returns the one already started (concurrent callers share one start).
    public func start() async throws -> Started {
        if let started { return started.info }
        if let starting { return try await starting.value }
        let task = Task { try await self.startCluster() }
        starting = task
        defer { starting = nil }
        return try await task.value
    }

    private func startCluster() async throws -> Started {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "snaplab-ceph-\(UUID().uuidString.prefix(8))")
        // The script's monitor takes the port after the gateway's.
        let port = Int.random(in: 20_000..<29_000) & ~1
        let output = try await ScriptRunner.run(
            "/bin/sh",
            [
                Self.script.path, "start", directory.path, "--address", address, "--port", String(port),
                "--memstore-bytes", String(memstoreBytes),
            ])
        guard output.status == 0 else {
            throw CephGatewayError(message: "ceph-cluster.sh start failed (\(output.status)): \(output.text)")
        }
        let guardian = Process()
        guardian.executableURL = URL(fileURLWithPath: "/bin/sh")
        guardian.arguments = [
            "-c", "cat > /dev/null; sh \"$0\" stop \"$1\"; rm -rf \"$1\"", Self.script.path, directory.path,
        ]
        let input = Pipe()
        guardian.standardInput = input
        guardian.standardOutput = FileHandle.nullDevice
        guardian.standardError = FileHandle.nullDevice
        try guardian.run()

        let info = Started(
            endpoint: "http://\(address):\(port)",
            environment: try Self.readEnvironment(directory.appendingPathComponent("s3.env")),
            directory: directory)
        started = (guardian, input, info)
        return info
    }

    /// Stops the daemons and removes the cluster's directory.
    public func stop() async {
        guard let started else { return }
        try? started.input.fileHandleForWriting.close()
        _ = try? await ScriptRunner.run("/bin/sh", [Self.script.path, "stop", started.info.directory.path])
        started.process.terminate()
        try? FileManager.default.removeItem(at: started.info.directory)
        self.started = nil
    }

    private static func readEnvironment(_ file: URL) throws -> [String: String] {
        var environment: [String: String] = [:]
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { environment[String(parts[0])] = String(parts[1]) }
        }
        return environment
    }
}

public struct CephGatewayError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
