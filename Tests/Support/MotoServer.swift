import Foundation

/// A local S3-compatible server (moto, from PyPI) for tests, started once per test process (or on demand, to
/// be killed by a test). It runs under a small Python guardian that kills it when this process goes away (its
/// stdin closes) or when `stop()` is called.
public actor MotoServer {
    public static let shared = MotoServer()
    private var started: (process: Process, input: Pipe, endpoint: String)?
    private let fixedPort: Int?

    public init(port: Int? = nil) {
        fixedPort = port
    }

    /// Test credentials moto accepts.
    public static let environment = [
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
    ]

    /// Kills the server now. (Closing its stdin would not do: children this process spawned since, such as
    /// qemu-nbd, may hold the pipe open.)
    public func stop() {
        guard let started else { return }
        started.process.terminate()
        started.process.waitUntilExit()
        try? started.input.fileHandleForWriting.close()
        self.started = nil
    }

    public func endpoint() async throws -> String {
        if let started { return started.endpoint }
        let port = fixedPort ?? Int.random(in: 41_000..<49_000)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import signal, subprocess, sys
            # Signals arrive blocked when the spawning thread blocked them; this process must hear SIGTERM.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM])
            server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", "\(port)"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            def stop(*_):
                server.kill()
                sys.exit(0)
            signal.signal(signal.SIGTERM, stop)
            sys.stdin.read()
            stop()
            """,
        ]
        let input = Pipe()
        process.standardInput = input
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let endpoint = "http://127.0.0.1:\(port)"
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if Self.answers(endpoint) { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        started = (process, input, endpoint)
        return endpoint
    }

    /// Whether something answers HTTP there (curl, from the set-up's packages).
    public static func answers(_ endpoint: String) -> Bool {
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-o", "/dev/null", "--max-time", "2", endpoint]
        curl.standardOutput = FileHandle.nullDevice
        curl.standardError = FileHandle.nullDevice
        guard (try? curl.run()) != nil else { return false }
        curl.waitUntilExit()
        return curl.terminationStatus == 0
    }
}
