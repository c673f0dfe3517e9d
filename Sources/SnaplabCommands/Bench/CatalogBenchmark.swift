import AsyncHTTPClient
import Blocking
import Foundation
import Hummingbird
import NIOCore
import SnaplabCore
import SnaplabServer

/// How listings, paging, the console's change poll, a policy's prune decision and gc marking grow with the
/// catalog: for each size, a fresh lab filled by `CatalogFiller`, each call timed warm (one untimed run, then
/// the median of `repeats`), the server on loopback and the CLI as a new process each time.
public struct CatalogBenchmark: Sendable {
    /// One measured call: its median seconds per size (nil where not measured), and what the issue asks of it.
    public struct Call: Sendable, Codable {
        public var name: String
        public var seconds: [Double?]
        public var bytes: [Int?]
        /// Target at 10 000 snapshots.
        public var targetSeconds: Double?
        /// How much it may grow from 10 000 to 100 000 snapshots.
        public var growthLimit: Double?
    }

    public struct Result: Sendable, Codable {
        public var sizes: [Int]
        public var calls: [Call]
    }

    let sizes: [Int]
    let storeUpTo: Int
    let repeats: Int
    let executable: String
    let scratch: URL
    let keepLabs: Bool
    let log: @Sendable (String) -> Void

    public init(
        sizes: [Int], storeUpTo: Int, repeats: Int, executable: String, scratch: URL, keepLabs: Bool = false,
        log: @escaping @Sendable (String) -> Void
    ) {
        self.keepLabs = keepLabs
        self.sizes = sizes
        self.storeUpTo = storeUpTo
        self.repeats = repeats
        self.executable = executable
        self.scratch = scratch
        self.log = log
    }

    /// The calls, in the order they are printed: (name, target at 10k, growth limit 10k → 100k).
    static let plan: [(String, Double?, Double?)] = [
        ("CLI snapshot list --output json (all)", 0.5, 13),
        ("CLI snapshot list --tag batch=… (100)", nil, 2),
        ("GET /api/snapshots (all)", nil, 13),
        ("GET /api/snapshots?limit=1000", nil, 2),
        ("EC2 DescribeSnapshots (all)", 0.5, 13),
        ("EC2 DescribeSnapshots MaxResults=1000", 0.05, 2),
        ("EC2 DescribeSnapshots tag:batch=… (100)", 0.05, 2),
        ("console poll after 10 changes", 0.02, 2),
        ("policy prune decision", 1, nil),
        ("store gc marking", 2, nil),
    ]

    public func run() async throws -> Result {
        var calls = Self.plan.map { name, target, growth in
            Call(name: name, seconds: [], bytes: [], targetSeconds: target, growthLimit: growth)
        }
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            for size in sizes {
                let measured = try await measure(size: size, http: http)
                for index in calls.indices {
                    calls[index].seconds.append(measured[index]?.seconds)
                    calls[index].bytes.append(measured[index]?.bytes)
                }
            }
        } catch {
            try? await http.shutdown()
            throw error
        }
        try? await http.shutdown()
        return Result(sizes: sizes, calls: calls)
    }

    typealias Sample = (seconds: Double, bytes: Int?)

    private func measure(size: Int, http: HTTPClient) async throws -> [Sample?] {
        let directory = scratch.appendingPathComponent("catalog-\(size)-\(getpid())")
        try? FileManager.default.removeItem(at: directory)
        defer {
            if keepLabs {
                log("\(size) snapshots: the lab is kept in \(directory.path) (SNAPLAB_STATE_DIR)")
            } else {
                try? FileManager.default.removeItem(at: directory)
            }
        }
        let lab = try Lab(paths: LabPaths(stateDirectory: directory))
        let filler = CatalogFiller(lab: lab)
        let now = Date()
        var started = ContinuousClock.now
        try await filler.fillCatalog(snapshots: size, now: now)
        log("\(size) snapshots: catalog filled in \(ContinuousClock.now - started)")
        let withStore = size <= storeUpTo
        if withStore {
            started = ContinuousClock.now
            try await filler.fillStore(snapshots: size)
            log("\(size) snapshots: store manifests written in \(ContinuousClock.now - started)")
        }

        let port = Int.random(in: 30_000..<50_000)
        let app = try SnaplabServer.buildApplication(
            lab: lab, configuration: ServerConfiguration(host: "127.0.0.1", port: port))
        let endpoint = "http://127.0.0.1:\(port)"
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await app.run() }
            defer { group.cancelAll() }
            try await waitUntilAnswering(http, endpoint)
            let batch = "b\(size / CatalogFiller.batchSize / 2)"
            let cli = ["SNAPLAB_STATE_DIR": directory.path]
            var samples: [Sample?] = []
            samples.append(
                try await timed { try await runCLI(["snapshot", "list", "--output", "json"], environment: cli) })
            samples.append(
                try await timed { try await runCLI(["snapshot", "list", "--tag", "batch=\(batch)"], environment: cli) })
            samples.append(try await timed { try await get(http, "\(endpoint)/api/snapshots") })
            samples.append(try await timed { try await get(http, "\(endpoint)/api/snapshots?limit=1000") })
            samples.append(try await timed { try await ec2(http, endpoint, "Action=DescribeSnapshots") })
            // The middle of the listing, not its first page.
            let middle =
                try await lab.catalog.snapshots(
                    matching: SnapshotQuery(), pageSize: size / 2, after: nil
                ).next?.text ?? ""
            samples.append(
                try await timed {
                    try await ec2(
                        http, endpoint,
                        "Action=DescribeSnapshots&MaxResults=1000&NextToken=\(Self.formEncoded(middle))")
                })
            samples.append(
                try await timed {
                    try await ec2(
                        http, endpoint,
                        "Action=DescribeSnapshots&Filter.1.Name=tag:batch&Filter.1.Value.1=\(batch)")
                })
            samples.append(try await consolePoll(lab: lab, http: http, endpoint: endpoint, size: size))
            let policy = try await lab.catalog.policy(CatalogFiller.policyId(0))
            // In-process calls: no answer size to show.
            samples.append(
                (try await timed { try await lab.policies.pruneDecision(policy, now: now).count }.seconds, nil))
            if withStore {
                let store = try await lab.store.open()
                let live = try await timed { try await store.countLiveChunks() }
                log("\(size) snapshots: \(live.bytes ?? 0) live chunks marked")
                samples.append((live.seconds, nil))
            } else {
                samples.append(nil)
            }
            log("\(size) snapshots: measured")
            return samples
        }
    }

    /// One untimed run, then the median of `repeats` (and the size the call reported).
    private func timed(_ body: () async throws -> Int) async throws -> Sample {
        _ = try await body()
        var seconds: [Double] = []
        var bytes = 0
        for _ in 0..<repeats {
            let started = ContinuousClock.now
            bytes = try await body()
            seconds.append((ContinuousClock.now - started).inSeconds)
        }
        return (seconds.sorted()[seconds.count / 2], bytes)
    }

    /// Ten tag changes, then the timed `/api/changes` after the cursor taken before them.
    private func consolePoll(lab: Lab, http: HTTPClient, endpoint: String, size: Int) async throws -> Sample {
        var seconds: [Double] = []
        var bytes = 0
        for round in 0...repeats {
            let cursor = try await lab.catalog.changeCursor()
            for number in 0..<10 {
                try await lab.tags.create(
                    [CatalogFiller.snapshotId((round * 10 + number) % size)], ["seen": "\(round)"])
            }
            let started = ContinuousClock.now
            bytes = try await get(http, "\(endpoint)/api/changes?since=\(cursor)")
            if round > 0 { seconds.append((ContinuousClock.now - started).inSeconds) }
        }
        return (seconds.sorted()[seconds.count / 2], bytes)
    }

    /// Runs the CLI to its end on a blocking thread (it waits on a child process).
    private func runCLI(_ arguments: [String], environment: [String: String]) async throws -> Int {
        let executable = executable
        return try await BlockingPool.run { () throws(any Error) -> Int in
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            let output = Pipe()
            process.standardOutput = output
            try process.run()
            let data = output.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw SnaplabError(
                    .io, "snaplab \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
            }
            return data.count
        }
    }

    private func get(_ http: HTTPClient, _ url: String) async throws -> Int {
        let response = try await http.execute(HTTPClientRequest(url: url), timeout: .seconds(600))
        let body = try await response.body.collect(upTo: 1 << 30)
        guard response.status == .ok else {
            throw SnaplabError(.io, "GET \(url): \(response.status) \(String(buffer: body).prefix(300))")
        }
        return body.readableBytes
    }

    private func ec2(_ http: HTTPClient, _ endpoint: String, _ form: String) async throws -> Int {
        var request = HTTPClientRequest(url: endpoint + "/")
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: form + "&Version=2016-11-15"))
        let response = try await http.execute(request, timeout: .seconds(600))
        let body = try await response.body.collect(upTo: 1 << 30)
        guard response.status == .ok else {
            throw SnaplabError(.io, "\(form): \(response.status) \(String(buffer: body).prefix(300))")
        }
        return body.readableBytes
    }

    static func formEncoded(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private func waitUntilAnswering(_ http: HTTPClient, _ endpoint: String) async throws {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if (try? await get(http, "\(endpoint)/api/policies")) != nil { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw SnaplabError(.timeout, "the benchmark's server did not answer on \(endpoint) within 30 s")
    }
}
