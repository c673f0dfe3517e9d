import Foundation
import SnaplabTestSupport
import Testing

@testable import SnapshotStore

/// S3 Object Lock on Ceph's gateway: a snapshot's objects held until a date survive a plain DELETE (which only
/// adds a delete marker), and garbage collection removes their versions by id once the date has passed.
@Suite struct ObjectLockTests {
    /// A store in a new bucket of the test cluster's gateway, created with object lock.
    static func lockedStore(_ name: String) async throws -> (bucket: String, S3Backend, SnapshotStore) {
        let gateway = try await CephGateway.shared.start()
        let bucket = "\(name)-\(UUID().uuidString.prefix(12).lowercased())"
        let backend = S3Backend(
            location: try S3Location.parse(
                "s3://\(bucket)/lab?endpoint=\(gateway.endpoint)&object-lock=1", environment: gateway.environment))
        return (bucket, backend, try await SnapshotStore.open(backend))
    }

    @Test func aRetainedSnapshotOutlivesADeleteAndGoesOnceItsRetentionEnds() async throws {
        let (bucket, backend, store) = try await Self.lockedStore("locked")
        #expect(try await backend.retentionSupported(), "the store created its bucket with object lock")
        let fixture = StoreFixture(directory: FileManager.default.temporaryDirectory, store: store)
        try await fixture.writeSnapshot("snap-held", [0: StoreFixture.chunk(1), 1: StoreFixture.chunk(2)])

        // Long enough for the steps below, short enough to wait out: compliance cannot be lifted by anyone.
        let until = Date().addingTimeInterval(20).rounded()
        let held = try await store.retain("snap-held", until: until, compliance: true)
        #expect(held == 3, "one pack, the chunk table and the manifest")
        let manifestKey = StoreLayout.manifest("snap-held")
        #expect(try await backend.retainedUntil(manifestKey) == until)

        // A plain DELETE (anyone with the bucket's keys) hides the manifest behind a delete marker…
        try await backend.delete(manifestKey)
        #expect(try await !store.hasManifest("snap-held"))
        let versions = try await backend.versions().filter { $0.key.hasSuffix(manifestKey) }
        #expect(versions.filter(\.isDeleteMarker).count == 1)
        let survivors = versions.filter { !$0.isDeleteMarker }
        let held0 = try #require(survivors.first, "the locked version survives")
        // …the locked version cannot be deleted by its id, and removing the marker brings the snapshot back.
        let refused = try await backend.send(
            "DELETE", path: "/\(bucket)/lab/\(manifestKey)", query: [("versionId", held0.id)], body: Data(),
            expect: [200, 204, 403])
        #expect(refused.status == 403, "S3 refuses to delete a retained version")
        let markers = versions.filter(\.isDeleteMarker)
        let marker = try #require(markers.first)
        _ = try await backend.send(
            "DELETE", path: "/\(bucket)/lab/\(manifestKey)", query: [("versionId", marker.id)], body: Data(),
            expect: [200, 204])
        #expect(try await store.manifest("snap-held").snapshotId == "snap-held")

        // Deleted through the store, collected while retained: the versions stay.
        try await store.deleteSnapshot("snap-held")
        let early = try await store.collectGarbage()
        #expect(early.packsDeleted == 1 && early.retainedVersionsKept >= 3, "\(early)")
        #expect(try await backend.versions().contains { $0.key.hasSuffix(manifestKey) && !$0.isDeleteMarker })

        // Once the retention has ended, the next collection removes them by version id.
        try await Task.sleep(for: .seconds(max(0, until.timeIntervalSinceNow) + 1))
        let late = try await store.collectGarbage()
        #expect(late.retainedVersionsKept == 0 && late.oldVersionsRemoved >= 3, "\(late)")
        let left = try await backend.versions().filter { $0.key.contains("/packs/") || $0.key.hasSuffix(manifestKey) }
        #expect(left.isEmpty, "\(left)")
    }

    /// Governance while a compliance lock cools off, compliance after: the bucket's mode only ever tightens.
    @Test func retentionTurnsFromGovernanceToComplianceAndNeverBack() async throws {
        let (_, backend, store) = try await Self.lockedStore("cooling")
        try await StoreFixture(directory: FileManager.default.temporaryDirectory, store: store).writeSnapshot(
            "snap-cooling", [0: StoreFixture.chunk(3)])
        let key = StoreLayout.manifest("snap-cooling")
        let until = Date().addingTimeInterval(30).rounded()
        _ = try await store.retain("snap-cooling", until: until, compliance: false)
        #expect(try await backend.retention(of: key)?.compliance == false)
        _ = try await store.retain("snap-cooling", until: until, compliance: true)
        #expect(try await backend.retention(of: key)?.compliance == true)
        let later = until.addingTimeInterval(5)
        _ = try await store.retain("snap-cooling", until: later, compliance: false)
        let now = try #require(try await backend.retention(of: key))
        #expect(now.compliance && now.until == later, "extended, still compliance")
    }

    /// A lifted governance lock lets go of the bucket's retention within a minute, except on a pack that another
    /// locked snapshot still needs.
    @Test func releasingKeepsWhatAnotherLockNeeds() async throws {
        let (_, backend, store) = try await Self.lockedStore("release")
        let fixture = StoreFixture(directory: FileManager.default.temporaryDirectory, store: store)
        // Two packs: the first holds the chunk both snapshots share, the second the lifted one's own chunk.
        try await fixture.writeSnapshot("snap-still", [0: StoreFixture.chunk(11)])
        try await fixture.writeSnapshot("snap-lifted", [0: StoreFixture.chunk(11), 1: StoreFixture.chunk(12)])
        let tomorrow = Date().addingTimeInterval(86_400).rounded()
        let later = tomorrow.addingTimeInterval(3600)
        _ = try await store.retain("snap-lifted", until: tomorrow, compliance: false)
        _ = try await store.retain("snap-still", until: later, compliance: false)
        let shared = try #require(try await store.packs(of: "snap-still").first)
        let own = try #require(try await store.packs(of: "snap-lifted").subtracting([shared]).first)

        let released = try await store.release("snap-lifted", keepingFor: ["snap-still": later])
        #expect(released == 3, "its manifest, table and own pack; the shared pack keeps the other lock's date")
        let soon = Date().addingTimeInterval(120)
        #expect(try await backend.retainedUntil(StoreLayout.manifest("snap-lifted")).map { $0 < soon } == true)
        #expect(try await backend.retainedUntil(StoreLayout.pack(own)).map { $0 < soon } == true)
        #expect(try await backend.retainedUntil(StoreLayout.pack(shared)) == later)
    }
}

extension Date {
    fileprivate func rounded() -> Date { Date(timeIntervalSince1970: timeIntervalSince1970.rounded(.up)) }
}
