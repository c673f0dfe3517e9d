import Foundation
import Libvirt
import Synchronization

/// The boot bench: a client of the lab that boots images and records where the time goes.
public struct BootBench: Sendable {
    public let lab: Lab

    public init(lab: Lab) {
        self.lab = lab
    }

    /// Boots one instance of `imageId` and records when each phase happens, from both sides: libvirt (define,
    /// start call, lifecycle events) and the guest's console markers. Markers are placed on the host clock by
    /// the smallest (first seen − uptime) offset, the guest's uptime being exact between markers. Shuts the
    /// guest down through its agent to time that too, then terminates the instance. Where the guest runs systemd,
    /// also returns `systemd-analyze`'s split, read through the agent once it is ready.
    public func measureBoot(
        imageId: String, fsck: FsckMode, firmware: Firmware? = nil, lazy: Bool = false,
        timeout: Duration = .seconds(600)
    ) async throws(SnaplabError) -> (phases: [String: Double], fsckStatus: Int?, systemd: [String: Double]?) {
        let hypervisor = try await lab.hosts.hypervisor(for: try await lab.hosts.host(nil))
        let events = try await hypervisor.lifecycleEvents()
        let timings = LaunchTimings()
        let origin = ContinuousClock.now
        var request = ImageLaunchRequest(
            image: imageId, fsck: fsck, readyTimeout: timeout, waitUntilReady: false, lazy: lazy)
        request.timings = timings
        request.firmware = firmware
        guard let instance = try await lab.images.launch(request).first else {
            throw SnaplabError(.internal, "no instance launched")
        }
        let recorder = PhaseRecorder(origin: origin)
        if let defined = timings["defined"] { recorder.set("defined", defined) }
        if let started = timings["started"] { recorder.set("start-returned", started) }
        let console = ConsoleLog(path: instance.consolePath)
        let domain = instance.domainName

        let systemd = Mutex<[String: Double]?>(nil)
        let failure = await withTaskGroup(of: Void.self) { group -> SnaplabError? in
            group.addTask {
                for await event in events where event.domainName == domain {
                    switch event.kind {
                    case .started: recorder.setOnce("started-event", .now)
                    case .shutdown: recorder.setOnce("shutdown-event", .now)
                    case .stopped:
                        recorder.setOnce("stopped", .now)
                        return
                    default: break
                    }
                }
            }
            defer { group.cancelAll() }
            return await follow(
                instance, console: console, hypervisor: hypervisor, recorder: recorder, timeout: timeout
            ) { agent in
                let split = await systemdSplit(agent)
                systemd.withLock { $0 = split }
            }
        }
        _ = try? await lab.instances.terminate(instance.id)
        if let failure { throw failure }
        return (
            recorder.phases(), recorder.markers["fsck-end"]?.fields["rc"].flatMap { Int($0) },
            systemd.withLock { $0 }
        )
    }

    /// Dates the guest's markers until it is ready (reading what the console gained every 20 ms), then shuts it down through
    /// its agent and waits for it to stop; returns what went wrong, if anything.
    private func follow(
        _ instance: Instance, console: ConsoleLog, hypervisor: Hypervisor, recorder: PhaseRecorder,
        timeout: Duration, whenReady: (GuestAgent) async -> Void
    ) async -> SnaplabError? {
        let domain = instance.domainName
        var failure: SnaplabError?
        let deadline = ContinuousClock.now + timeout
        // Marker lines land in the console file; looking every 20 ms dates them to within that. The instance is
        // new, so its file holds only this boot (after the `boot-requested` line the launch wrote).
        let follower = ConsoleFollower(path: console.path, from: 0)
        while ContinuousClock.now < deadline {
            for marker in await follower.newMarkers()
            where marker.phase != ConsoleLog.bootRequested && recorder.markers[marker.phase] == nil {
                recorder.addMarker(marker, seen: .now)
            }
            if recorder.markers["ready"] != nil { break }
            if recorder.has("stopped") {
                failure = SnaplabError(
                    .guest, "instance \(instance.id) stopped while booting. Console tail:\n\(console.tail())")
                break
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        if failure == nil, recorder.markers["ready"] == nil {
            failure = SnaplabError(
                .timeout,
                "instance \(instance.id) did not print `ready` within \(timeout). Console tail:\n\(console.tail())")
        }
        if failure == nil {
            let agent = GuestAgent(hypervisor: hypervisor, domain: domain)
            try? await agent.waitUntilResponsive(deadline: ContinuousClock.now + .seconds(30))
            await whenReady(agent)
            recorder.set("shutdown-requested", .now)
            try? await hypervisor.requestShutdown(name: domain)
            let stopDeadline = ContinuousClock.now + .seconds(90)
            while !recorder.has("stopped"), ContinuousClock.now < stopDeadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        return failure
    }
}

/// `systemd-analyze` in the guest, asked until the boot has finished (its last jobs may still run at `ready`);
/// nil for a guest without systemd.
private func systemdSplit(_ agent: GuestAgent) async -> [String: Double]? {
    let deadline = ContinuousClock.now + .seconds(120)
    while ContinuousClock.now < deadline {
        guard let result = try? await agent.exec(["/usr/bin/systemd-analyze"], timeout: .seconds(60)) else {
            return nil
        }
        if let split = SystemdAnalyze.parse(result.stdout) { return split }
        if result.exitCode != 0, !result.stderr.contains("not yet finished") { return nil }
        try? await Task.sleep(for: .seconds(2))
    }
    return nil
}

/// Collects host instants and guest markers of one boot.
final class PhaseRecorder: Sendable {
    private let origin: ContinuousClock.Instant
    private let host = Mutex<[String: ContinuousClock.Instant]>([:])
    private let seenMarkers = Mutex<[String: (BootMarker, ContinuousClock.Instant)]>([:])

    init(origin: ContinuousClock.Instant) {
        self.origin = origin
    }

    func set(_ phase: String, _ instant: ContinuousClock.Instant) {
        host.withLock { $0[phase] = instant }
    }

    func setOnce(_ phase: String, _ instant: ContinuousClock.Instant) {
        host.withLock { if $0[phase] == nil { $0[phase] = instant } }
    }

    func has(_ phase: String) -> Bool { host.withLock { $0[phase] != nil } }

    func addMarker(_ marker: BootMarker, seen: ContinuousClock.Instant) {
        seenMarkers.withLock { if $0[marker.phase] == nil { $0[marker.phase] = (marker, seen) } }
    }

    var markers: [String: BootMarker] { seenMarkers.withLock { $0.mapValues(\.0) } }

    func phases() -> [String: Double] {
        func seconds(_ instant: ContinuousClock.Instant) -> Double {
            (instant - origin).inSeconds
        }
        var result = host.withLock { $0.mapValues(seconds) }
        let seen = seenMarkers.withLock { $0 }
        // Where the guest's uptime 0 lies on the host clock: each marker was seen at or after it was printed.
        guard let kernelStart = seen.values.map({ seconds($0.1) - $0.0.uptime }).min() else { return result }
        result["kernel-start"] = kernelStart
        for (phase, (marker, _)) in seen { result[phase] = kernelStart + marker.uptime }
        return result
    }
}
