import AsyncHTTPClient
import Foundation
import Hummingbird
import NIOCore
import ServiceLifecycle
import SnaplabCore
import SnaplabServer

/// Load on the EC2 API: `clients` concurrent clients describing volumes and snapshots and tagging a volume, over
/// real HTTP on loopback, for `duration`, while snapshots of that volume are taken and deleted one after another.
/// Every answer must be a success; reports requests per second and latency percentiles.
public struct APIBenchmark: Sendable {
    public struct Result: Sendable, Codable {
        public var clients: Int
        public var seconds: Double
        public var requests: Int
        public var errors: Int
        public var firstErrors: [String]
        public var requestsPerSecond: Double
        public var p50Milliseconds: Double
        public var p99Milliseconds: Double
        public var maxMilliseconds: Double
        public var snapshotsTaken: Int
    }

    let lab: Lab
    let clients: Int
    let duration: Duration
    let log: @Sendable (String) -> Void

    public init(lab: Lab, clients: Int, duration: Duration, log: @escaping @Sendable (String) -> Void) {
        self.lab = lab
        self.clients = clients
        self.duration = duration
        self.log = log
    }

    public func run() async throws -> Result {
        let port = Int.random(in: 30_000..<50_000)
        let app = try SnaplabServer.buildApplication(
            lab: lab, configuration: ServerConfiguration(host: "127.0.0.1", port: port))
        let volume = try await lab.volumes.create(role: .data, size: 64 << 20, tags: ["bench": "api"])
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let outcome: Swift.Result<Result, any Error>
        do {
            outcome = .success(
                try await measure(app, endpoint: "http://127.0.0.1:\(port)/", http: http, volume: volume))
        } catch {
            outcome = .failure(error)
        }
        try? await http.shutdown()
        for snapshot in (try? await lab.snapshots.list()) ?? [] where snapshot.volumeId == volume.id {
            _ = try? await lab.snapshots.delete(snapshot.id)
        }
        try? await lab.volumes.delete(volume.id)
        return try outcome.get()
    }

    private func measure(_ app: some ApplicationProtocol, endpoint: String, http: HTTPClient, volume: Volume)
        async throws -> Result
    {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            try await waitUntilAnswering(http, endpoint)
            log("serving on \(endpoint); \(clients) clients for \(duration)")

            let stop = ContinuousClock.now + duration
            async let snapshotsTaken = snapshotLoop(volumeId: volume.id, until: stop)
            let samples = try await withThrowingTaskGroup(of: ClientSamples.self) { clientsGroup in
                for number in 0..<clients {
                    clientsGroup.addTask {
                        try await client(number, http: http, endpoint: endpoint, volumeId: volume.id, until: stop)
                    }
                }
                var all = ClientSamples()
                for try await one in clientsGroup { all.merge(one) }
                return all
            }
            let taken = try await snapshotsTaken

            let sorted = samples.latencies.sorted()
            func percentile(_ fraction: Double) -> Double {
                sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))] * 1000
            }
            let seconds = duration.inSeconds
            return Result(
                clients: clients, seconds: seconds, requests: sorted.count, errors: samples.errors.count,
                firstErrors: Array(samples.errors.prefix(5)),
                requestsPerSecond: Double(sorted.count) / seconds, p50Milliseconds: percentile(0.5),
                p99Milliseconds: percentile(0.99), maxMilliseconds: (sorted.last ?? 0) * 1000, snapshotsTaken: taken)
        }
    }

    private struct ClientSamples: Sendable {
        var latencies: [Double] = []
        var errors: [String] = []

        mutating func merge(_ other: ClientSamples) {
            latencies += other.latencies
            errors += other.errors
        }
    }

    /// One client: describe volumes, describe snapshots, tag the volume, in turn.
    private func client(
        _ number: Int, http: HTTPClient, endpoint: String, volumeId: String, until stop: ContinuousClock.Instant
    )
        async throws -> ClientSamples
    {
        var samples = ClientSamples()
        var round = 0
        while ContinuousClock.now < stop {
            let body =
                switch round % 3 {
                case 0: "Action=DescribeVolumes"
                case 1: "Action=DescribeSnapshots"
                default: "Action=CreateTags&ResourceId.1=\(volumeId)&Tag.1.Key=client\(number)&Tag.1.Value=\(round)"
                }
            round += 1
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: body + "&Version=2016-11-15"))
            let started = ContinuousClock.now
            do {
                let response = try await http.execute(request, timeout: .seconds(60))
                let text = String(buffer: try await response.body.collect(upTo: 64 << 20))
                samples.latencies.append((ContinuousClock.now - started).inSeconds)
                if response.status != .ok { samples.errors.append("\(body): \(response.status) \(text.prefix(300))") }
            } catch {
                samples.errors.append("\(body): \(error)")
            }
        }
        return samples
    }

    /// Snapshots the volume again and again until `stop`, deleting each one once the next completes.
    private func snapshotLoop(volumeId: String, until stop: ContinuousClock.Instant) async throws -> Int {
        var taken = 0
        var previous: String?
        while ContinuousClock.now < stop {
            let snapshot = try await lab.snapshots.wait(for: try await lab.snapshots.create(volumeId: volumeId).id)
            taken += 1
            if let previous { try await lab.snapshots.delete(previous) }
            previous = snapshot.id
        }
        if let previous { try await lab.snapshots.delete(previous) }
        return taken
    }

    private func waitUntilAnswering(_ http: HTTPClient, _ endpoint: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            var request = HTTPClientRequest(url: endpoint)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
            request.body = .bytes(ByteBuffer(string: "Action=DescribeVolumes&Version=2016-11-15"))
            if let response = try? await http.execute(request, timeout: .seconds(5)), response.status == .ok { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SnaplabError(.timeout, "the benchmark's server did not answer on \(endpoint) within 30 s")
    }
}
