import Foundation
import Testing

@testable import SnaplabCore

@Suite struct CatalogTests {
    let catalog: Catalog
    /// SQLite keeps dates to the millisecond; whole seconds compare equal after a round trip.
    static let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded())
    let host = Host(name: "local", uri: "test:///default", poolName: "p", poolPath: "/p", createdAt: now)

    init() async throws {
        catalog = try Catalog.inMemory()
        try await catalog.save(host)
    }

    func volume(_ role: VolumeRole = .data, state: VolumeState = .available) -> Volume {
        let id = ResourceID.generate(.volume)
        return Volume(
            id: id, host: "local", role: role, size: 1 << 20, state: state, poolVolume: "\(id).qcow2",
            path: "/p/\(id).qcow2", createdAt: Self.now, tags: ["team": "a"])
    }

    func instance() -> Instance {
        Instance(
            id: ResourceID.generate(.instance), host: "local", state: .pending, memoryMiB: 128, vcpus: 1,
            boot: BootSettings(kernel: "/k", initrd: "/i", cmdline: "c"), fsck: .auto, consolePath: "/c")
    }

    @Test func volumesRoundTripWithTagsAndBootSettings() async throws {
        var stored = volume(.boot)
        stored.boot = BootSettings(kernel: "/k", initrd: "/i", cmdline: "console=ttyS0")
        try await catalog.insert(stored)
        #expect(try await catalog.volume(stored.id) == stored)
        #expect(try await catalog.volumes().map(\.id) == [stored.id])
    }

    @Test func unknownIdsAreNotFoundAndMalformedOnesInvalid() async throws {
        await #expect { _ = try await catalog.volume("vol-00000000000000000") } throws: {
            ($0 as? SnaplabError)?.code == .notFound
        }
        await #expect { _ = try await catalog.instance("i-00000000000000000") } throws: {
            ($0 as? SnaplabError)?.code == .notFound
        }
        await #expect { _ = try await catalog.volume("../etc") } throws: {
            ($0 as? SnaplabError)?.code == .invalidArgument
        }
    }

    @Test func launchAttachesAtomically() async throws {
        let boot = volume(.boot)
        let free = volume()
        let busy = volume(state: .inUse)
        for item in [boot, free, busy] { try await catalog.insert(item) }
        let first = instance()
        await #expect {
            try await catalog.insert(
                first,
                attaching: [
                    VolumeAttachment(volumeId: boot.id, device: "vda", deleteOnTermination: true),
                    VolumeAttachment(volumeId: free.id, device: "vdb", deleteOnTermination: false),
                    VolumeAttachment(volumeId: busy.id, device: "vdc", deleteOnTermination: false),
                ])
        } throws: { ($0 as? SnaplabError)?.code == .invalidState }
        // Nothing of the failed launch remains.
        #expect(try await catalog.instances().isEmpty)
        #expect(try await catalog.volume(boot.id).state == .available)
        #expect(try await catalog.volume(free.id).instanceId == nil)

        let second = instance()
        try await catalog.insert(
            second,
            attaching: [
                VolumeAttachment(volumeId: boot.id, device: "vda", deleteOnTermination: true),
                VolumeAttachment(volumeId: free.id, device: "vdb", deleteOnTermination: false),
            ])
        let attached = try await catalog.volumes(attachedTo: second.id)
        #expect(attached.map(\.device) == ["vda", "vdb"])
        #expect(attached.allSatisfy { $0.state == .inUse })
    }

    @Test func terminationReleasesDataAndDoomsDeleteOnTermination() async throws {
        let boot = volume(.boot)
        let data = volume()
        for item in [boot, data] { try await catalog.insert(item) }
        let launched = instance()
        try await catalog.insert(
            launched,
            attaching: [
                VolumeAttachment(volumeId: boot.id, device: "vda", deleteOnTermination: true),
                VolumeAttachment(volumeId: data.id, device: "vdb", deleteOnTermination: false),
            ])
        try await catalog.transitionInstance(launched.id, to: .running)
        try await catalog.transitionInstance(launched.id, to: .shuttingDown)
        let doomed = try await catalog.finishTermination(launched.id)
        #expect(doomed.map(\.id) == [boot.id])
        #expect(try await catalog.volume(boot.id).state == .deleting)
        let released = try await catalog.volume(data.id)
        #expect(released.state == .available && released.instanceId == nil && released.device == nil)
        #expect(try await catalog.instance(launched.id).state == .terminated)
    }

    @Test func wrongTransitionsNameBothStates() async throws {
        let launched = instance()
        try await catalog.insert(launched, attaching: [])
        await #expect {
            try await catalog.transitionInstance(launched.id, to: .terminated)
        } throws: { error in
            guard let error = error as? SnaplabError else { return false }
            return error.code == .invalidState && error.message.contains("pending")
                && error.message.contains("terminated")
        }
        #expect(try await catalog.instance(launched.id).state == .pending)
    }

    @Test func volumeTransitionsOnlyFromExpectedStates() async throws {
        let inUse = volume(state: .inUse)
        try await catalog.insert(inUse)
        await #expect {
            try await catalog.transitionVolume(inUse.id, from: [.available], to: .deleting)
        } throws: { ($0 as? SnaplabError)?.code == .invalidState }
        #expect(try await catalog.volume(inUse.id).state == .inUse)
    }

    @Test func catalogOnDiskUsesWAL() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("catalog-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let onDisk = try Catalog(path: directory.appendingPathComponent("c.sqlite").path)
        try await onDisk.save(host)
        #expect(try await onDisk.hosts() == [host])
        #expect(FileManager.default.fileExists(atPath: directory.appendingPathComponent("c.sqlite-wal").path))
    }
}
