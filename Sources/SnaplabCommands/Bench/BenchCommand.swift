import ArgumentParser
import Foundation
import SnaplabCore

struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print ratios against a baseline measured in the same run.",
        subcommands: [
            Snapshot.self, Launch.self, Boot.self, BootReportCommand.self, Store.self, Encryption.self, API.self,
            CatalogScale.self,
        ]
    )
}

extension BenchCommand {
    struct Launch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Launch time to a started domain from a small and a large image: first (hydration) and later.")

        @OptionGroup var lab: LabOptions
        @Option(help: "The image recipe.") var recipe = "images/tiny"
        @Option(help: "The large image's boot volume size.") var largeSize = "4G"
        @Option(help: "How full the large image's filesystem is (percent).") var fill = 80
        @Option(help: "Launches after the first, per image.") var launches = 5
        @Option var output: OutputFormat = .table

        func validate() throws {
            _ = try validating { try ByteSize.parse(largeSize) }
            if !(0...90).contains(fill) { throw ValidationError("--fill must be 0–90") }
        }

        func run() async throws {
            let lab = try await lab.openLab()
            let result = try await LaunchBenchmark(
                lab: lab, recipe: try ImageRecipe(directory: URL(fileURLWithPath: recipe)),
                sizes: [(256 << 20, 0), (try ByteSize.parse(largeSize), fill)], laterLaunches: launches
            ) { FileHandle.standardError.write(Data("\($0)\n".utf8)) }.run()
            if output == .json { return try Printer.json(result) }
            Printer.table(
                [
                    "BOOT VOLUME", "ALLOCATED", "FIRST LAUNCH", "HYDRATION", "RESTORE", "HYDRATION / RESTORE",
                    "LATER (MEDIAN)", "LATER (ALL)",
                ],
                result.rows.map { row in
                    [
                        ByteSize.format(row.bootSize), ByteSize.format(row.allocatedBytes),
                        String(format: "%.3f s", row.firstLaunchSeconds),
                        String(format: "%.2f s (%.0f MB/s)", row.hydrationSeconds, row.hydrationMBps),
                        String(format: "%.2f s (%.0f MB/s)", row.restoreSeconds, row.restoreMBps),
                        String(format: "×%.2f", row.hydrationVersusRestore), String(format: "%.3f s", row.laterMedian),
                        row.laterLaunchSeconds.map { String(format: "%.3f", $0) }.joined(separator: " "),
                    ]
                })
            print("")
            Printer.table(
                [
                    "BOOT VOLUME", "LAZY: STARTED", "READY (HYDRATED)", "READ 256 MiB (HYDRATED)",
                    "INDEPENDENT AFTER (RESTORE + 10 s)", "SAME DATA",
                ],
                result.rows.map { row in
                    let lazy = row.lazy
                    let read =
                        lazy.readSeconds.map { lazyRead in
                            String(
                                format: "%.2f s (%.2f s) ×%.2f", lazyRead, lazy.hydratedReadSeconds ?? 0,
                                lazy.readVersusHydrated ?? 0)
                        } ?? "-"
                    return [
                        ByteSize.format(row.bootSize), String(format: "%.3f s", lazy.launchSeconds),
                        String(
                            format: "%.2f s (%.2f s) ×%.2f", lazy.readySeconds, lazy.hydratedReadySeconds,
                            lazy.readyVersusHydrated),
                        read,
                        String(format: "%.1f s (%.1f s)", lazy.independentSeconds, row.restoreSeconds + 10),
                        lazy.readSeconds == nil ? "-" : (lazy.digestsMatch ? "yes" : "NO"),
                    ]
                })
            if let large = result.rows.last {
                let lazy = large.lazy
                print(
                    String(
                        format:
                            "lazy launch of the large image: started in %.2f s (target ≤ 2: %@), ready at ×%.2f a hydrated one (target ≤ 1.3: %@), read at ×%.2f (target ≤ 2: %@), independent after %.1f s (target ≤ %.1f: %@)",
                        lazy.launchSeconds, lazy.launchSeconds <= 2 ? "met" : "MISSED", lazy.readyVersusHydrated,
                        lazy.readyVersusHydrated <= 1.3 ? "met" : "MISSED", lazy.readVersusHydrated ?? 0,
                        (lazy.readVersusHydrated ?? 0) <= 2 ? "met" : "MISSED", lazy.independentSeconds,
                        large.restoreSeconds + 10,
                        lazy.independentSeconds <= large.restoreSeconds + 10 ? "met" : "MISSED"))
                print(
                    String(
                        format:
                            "first-launch hydration of the large image at ×%.2f the restore rate (target ≥ 0.9: %@)",
                        large.hydrationVersusRestore, large.hydrationVersusRestore >= 0.9 ? "met" : "MISSED"))
            }
            let largest = result.rows.map(\.laterMedian).max() ?? 0
            print(
                String(
                    format:
                        "later launches, large / small: ×%.2f (target ≤ 1.2: %@); slowest median %.3f s (target < 1 s: %@)",
                    result.largeVersusSmall, result.largeVersusSmall <= 1.2 ? "met" : "MISSED",
                    largest, largest < 1 ? "met" : "MISSED"))
        }
    }
}

extension BenchCommand {
    struct Store: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Snapshot throughput into an S3 store next to the directory store, in the same run.")

        @OptionGroup var lab: LabOptions
        @Option(help: "The S3 store to measure, s3://bucket/prefix?endpoint=… (credentials from the AWS environment).")
        var s3: String
        @Option(help: "Size of the test volume (about 3/4 of it is written).") var size = "1G"

        func validate() throws {
            _ = try validating { try ByteSize.parse(size) }
        }

        func run() async throws {
            let result = try await StoreBenchmark(
                lab: try await lab.openLab(), s3URL: s3, size: try ByteSize.parse(size)
            )
            .run { FileHandle.standardError.write(Data("\($0)\n".utf8)) }
            Printer.table(
                ["STORE", "FULL SNAPSHOT", "SECONDS"],
                [
                    [
                        "directory", String(format: "%.0f MB/s", result.directoryMBps),
                        String(format: "%.2f", result.directorySeconds),
                    ],
                    ["s3", String(format: "%.0f MB/s", result.s3MBps), String(format: "%.2f", result.s3Seconds)],
                ])
            print(
                String(
                    format: "S3 / directory: ×%.2f (%@ allocated)", result.s3VersusDirectory,
                    ByteSize.format(result.allocatedBytes)))
        }
    }
}

extension BenchCommand {
    struct API: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "api",
            abstract: "Concurrent EC2 API clients (describe and tag) over loopback HTTP while snapshots run.")

        @OptionGroup var lab: LabOptions
        @Option(help: "Concurrent clients.") var clients = 16
        @Option(help: "Seconds to run.") var seconds = 60
        @Option var output: OutputFormat = .table

        func validate() throws {
            if !(1...256).contains(clients) { throw ValidationError("--clients must be 1–256") }
            if !(1...3600).contains(seconds) { throw ValidationError("--seconds must be 1–3600") }
        }

        func run() async throws {
            let result = try await APIBenchmark(
                lab: try await lab.openLab(), clients: clients, duration: .seconds(seconds)
            ) { FileHandle.standardError.write(Data("\($0)\n".utf8)) }.run()
            if output == .json { return try Printer.json(result) }
            Printer.table(
                ["CLIENTS", "SECONDS", "REQUESTS", "REQ/S", "P50", "P99", "MAX", "ERRORS", "SNAPSHOTS"],
                [
                    [
                        "\(result.clients)", "\(Int(result.seconds))", "\(result.requests)",
                        String(format: "%.0f", result.requestsPerSecond),
                        String(format: "%.1f ms", result.p50Milliseconds),
                        String(format: "%.1f ms", result.p99Milliseconds),
                        String(format: "%.1f ms", result.maxMilliseconds),
                        "\(result.errors)", "\(result.snapshotsTaken)",
                    ]
                ])
            for error in result.firstErrors { print("error: \(error)") }
            if result.errors > 0 { throw ExitCode(ExitStatus.for(.io)) }
        }
    }
}

extension BenchCommand {
    struct CatalogScale: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "catalog",
            abstract: "Listings, paging, the console's change poll, prune and gc marking at 1k, 10k, 100k snapshots.")

        @Option(help: "Catalog sizes (snapshots), comma-separated.") var sizes = "1000,10000,100000"
        @Option(help: "Write store manifests (for gc marking) up to this size.") var storeUpTo = 10_000
        @Option(help: "Timed runs per call (the median is reported).") var repeats = 5
        @Option(help: "Where the labs are made (each removed after, unless --keep-labs).")
        var scratch = "/var/tmp/snaplab-bench"
        @Flag(help: "Leave each filled lab in --scratch, to explore it with SNAPLAB_STATE_DIR.") var keepLabs = false
        @Option var output: OutputFormat = .table

        func parsedSizes() throws -> [Int] {
            let parsed = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !parsed.isEmpty, parsed.allSatisfy({ ($0 ?? 0) >= 1 && ($0 ?? 0) <= 1_000_000 }) else {
                throw ValidationError("--sizes takes numbers from 1 to 1000000, comma-separated")
            }
            return parsed.compactMap { $0 }
        }

        func validate() throws {
            _ = try parsedSizes()
            if !(1...50).contains(repeats) { throw ValidationError("--repeats must be 1–50") }
        }

        func run() async throws {
            LogSetup.bootstrap(level: .warning)
            let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
            let result = try await CatalogBenchmark(
                sizes: try parsedSizes(), storeUpTo: storeUpTo, repeats: repeats, executable: executable,
                scratch: URL(fileURLWithPath: scratch), keepLabs: keepLabs
            ) { FileHandle.standardError.write(Data("\($0)\n".utf8)) }.run()
            if output == .json { return try Printer.json(result) }
            CatalogBenchmarkReport(result: result).print()
        }
    }
}
