import Foundation
import NBDServer
import Testing

@testable import SnapshotStore

/// A snapshot served over NBD from the store: real clients (libnbd's `nbdinfo`, `nbdcopy`, and `qemu-img`)
/// read what the snapshot holds, see its holes as holes, and get an error, not wrong bytes, from a damaged
/// chunk.
@Suite(.serialized) struct SnapshotExportTests {
    static let chunk = 64 << 10
    /// Data at chunks 0–2, 40 and 127 of 128; the rest never written.
    static let written: [UInt32: Data] = [
        0: StoreFixture.chunk(1), 1: StoreFixture.chunk(2), 2: StoreFixture.chunk(3, random: false),
        40: StoreFixture.chunk(4), 127: StoreFixture.chunk(5),
    ]
    static let volumeSize = UInt64(128 * chunk)

    struct Served {
        let fixture: StoreFixture
        let source: SnapshotBlockSource
        let server: NBDServer
        let uri: String
    }

    static func serve() async throws -> Served {
        let fixture = try await StoreFixture.make()
        let (manifest, _) = try await fixture.writeSnapshot("snap-export", written, volumeSize: volumeSize)
        let session = try await fixture.store.openSession()
        let source = try SnapshotBlockSource(session: session, manifest: manifest, cacheBytes: 4 * chunk)
        let socket = fixture.directory.appendingPathComponent("export.sock").path
        let server = try NBDServer(socketPath: socket)
        server.add("snap-export", source)
        server.start()
        return Served(fixture: fixture, source: source, server: server, uri: "nbd+unix:///snap-export?socket=\(socket)")
    }

    /// Runs `body` with a served snapshot, and takes it all down however `body` ends.
    static func withServed(_ body: (Served) async throws -> Void) async throws {
        let served = try await serve()
        do {
            try await body(served)
        } catch {
            await stop(served)
            throw error
        }
        await stop(served)
    }

    static func stop(_ served: Served) async {
        served.server.stop()
        await served.source.close()
        served.fixture.remove()
    }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test func nbdClientsReadTheSnapshotAndSeeItsHoles() async throws {
        try await Self.withServed { served in try await Self.readWhole(served) }
    }

    static func readWhole(_ served: Served) async throws {
        // The volume as it should read.
        var expected = Data(count: Int(Self.volumeSize))
        for (index, bytes) in Self.written {
            expected.replaceSubrange((Int(index) * Self.chunk)..<(Int(index) * Self.chunk + bytes.count), with: bytes)
        }
        let raw = served.fixture.directory.appendingPathComponent("expected.raw")
        try expected.write(to: raw)

        let map = try Self.run(["nbdinfo", "--map", served.uri])
        #expect(map.status == 0, "\(map.output)")
        let rows = map.output.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        let extents = rows.map { (UInt64($0[0]) ?? 0, UInt64($0[1]) ?? 0, $0.last.map(String.init) ?? "") }
        let chunk = UInt64(Self.chunk)
        #expect(
            extents.map(\.0) == [0, 3 * chunk, 40 * chunk, 41 * chunk, 127 * chunk], "\(map.output)")
        #expect(extents.map(\.2) == ["data", "hole,zero", "data", "hole,zero", "data"], "\(map.output)")

        let compare = try Self.run(["qemu-img", "compare", "-f", "raw", "-F", "raw", raw.path, served.uri])
        #expect(compare.status == 0, "\(compare.output)")
        let copy = served.fixture.directory.appendingPathComponent("copy.raw")
        let copied = try Self.run(["nbdcopy", served.uri, copy.path])
        #expect(copied.status == 0, "\(copied.output)")
        #expect(try Data(contentsOf: copy) == expected)

        let size = try Self.run(["nbdinfo", "--size", served.uri])
        #expect(size.output.trimmingCharacters(in: .whitespacesAndNewlines) == String(Self.volumeSize))
        let list = try Self.run(["nbdinfo", "--list", "--json", served.uri])
        #expect(list.status == 0 && list.output.contains("snap-export"), "\(list.output)")
        let missing = try Self.run(["nbdinfo", "nbd+unix:///no-such-export?socket=\(served.server.socketPath)"])
        #expect(missing.status != 0)
    }

    @Test func aDamagedChunkIsAnErrorNotWrongBytes() async throws {
        try await Self.withServed { served in try await Self.readDamaged(served) }
    }

    static func readDamaged(_ served: Served) async throws {
        // Flip a byte inside chunk 40's record in its pack.
        let hash = ChunkHash.of(Self.written[40]!)
        let location = try #require(served.fixture.store.index.location(of: hash))
        let key = StoreLayout.pack(location.pack)
        var pack = try await served.fixture.store.backend.get(key)
        pack[Int(location.offset) + Int(location.length) / 2] ^= 0xFF
        let path = (served.fixture.store.backend as? DirectoryBackend)!.path(key)
        try pack.write(to: URL(fileURLWithPath: path))

        let copy = served.fixture.directory.appendingPathComponent("copy.raw")
        let copied = try Self.run(["nbdcopy", served.uri, copy.path])
        #expect(copied.status != 0, "a damaged chunk fails the read: \(copied.output)")
        #expect(
            copied.output.contains("Input/output error") || copied.output.contains("does not match"), "\(copied.output)"
        )
        // The chunks before it still read; the damaged one answers an I/O error.
        let before = try Self.run(["qemu-io", "-r", "-f", "raw", "-c", "read 0 \(3 * Self.chunk)", served.uri])
        #expect(before.status == 0 && before.output.contains("read \(3 * Self.chunk)/"), "\(before.output)")
        let damaged = try Self.run(["qemu-io", "-r", "-f", "raw", "-c", "read \(40 * Self.chunk) 4096", served.uri])
        #expect(damaged.output.contains("Input/output error"), "\(damaged.output)")
    }
}
