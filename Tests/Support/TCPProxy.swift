import Foundation

/// A TCP forwarder in front of a server, which a test can kill and restart on the same port: to the client,
/// the server is gone (connections refused) and back.
public final class TCPProxy: @unchecked Sendable {
    // @unchecked: start/kill are called from one test task at a time.
    public let port: Int
    let target: Int
    private var process: Process?

    public init(target: Int) {
        self.target = target
        port = Int.random(in: 50_000..<60_000)
    }

    public var endpoint: String { "http://127.0.0.1:\(port)" }

    public func start() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            """
            import asyncio, sys
            async def pipe(reader, writer):
                try:
                    while data := await reader.read(65536):
                        writer.write(data)
                        await writer.drain()
                finally:
                    writer.close()
            async def handle(client_reader, client_writer):
                server_reader, server_writer = await asyncio.open_connection("127.0.0.1", \(target))
                await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))
            async def main():
                server = await asyncio.start_server(handle, "127.0.0.1", \(port), reuse_address=True)
                async with server:
                    await server.serve_forever()
            asyncio.run(main())
            """,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline, !MotoServer.answers(endpoint) { usleep(100_000) }
    }

    /// SIGKILL: open connections die with it.
    public func kill() {
        guard let process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        self.process = nil
    }

    deinit { kill() }
}
