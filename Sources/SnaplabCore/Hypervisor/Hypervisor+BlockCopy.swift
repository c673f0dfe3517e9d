import Foundation
import Libvirt

extension Hypervisor {
    /// Moves a running domain's disk onto `destination` (an existing qcow2 whose backing chain holds what the
    /// disk's backing chain holds): copies only the disk's top layer, waits until the copy follows the guest's
    /// writes, then pivots. libvirt updates the live and the persistent definition. On failure or timeout the
    /// job is abandoned and the disk stays where it was.
    func shallowCopy(domain name: String, disk: String, destination: DomainXML.Disk, timeout: Duration)
        async throws(SnaplabError)
    {
        let xml = DomainXML.copyDestinationXML(destination)
        try await call("starting the block copy of \(name)/\(disk)") { connection in
            try connection.lookupDomain(name: name).startShallowBlockCopy(disk: disk, destinationXML: xml)
        }
        let deadline = ContinuousClock.now + timeout
        while true {
            let job = try await call("reading the block copy of \(name)/\(disk)") { connection in
                try connection.lookupDomain(name: name).blockJob(disk: disk)
            }
            guard let job else {
                throw SnaplabError(.hypervisor, "the block copy of \(name)/\(disk) ended before it was ready")
            }
            if job.isReady { break }
            if Task.isCancelled {
                await abandonCopy(domain: name, disk: disk)
                throw SnaplabError(.internal, "the block copy of \(name)/\(disk) was cancelled; it starts again later")
            }
            if ContinuousClock.now >= deadline {
                await abandonCopy(domain: name, disk: disk)
                throw SnaplabError(.timeout, "the block copy of \(name)/\(disk) was not ready within \(timeout)")
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        do throws(SnaplabError) {
            try await call("pivoting \(name)/\(disk) onto its copy") { connection in
                try connection.lookupDomain(name: name).finishBlockCopy(disk: disk, pivot: true)
            }
        } catch {
            await abandonCopy(domain: name, disk: disk)
            throw error
        }
    }

    private func abandonCopy(domain name: String, disk: String) async {
        _ = try? await call("abandoning the block copy of \(name)/\(disk)") { connection in
            try connection.lookupDomain(name: name).finishBlockCopy(disk: disk, pivot: false)
        }
    }

    /// Resumes a domain that its disk's `error_policy='stop'` paused; true when it did.
    func resumeIfPausedOnIOError(domain name: String) async throws(SnaplabError) -> Bool {
        try await call("resuming domain \(name)") { connection in
            guard let domain = try connection.findDomain(name: name), try domain.pausedReason() == .ioError else {
                return false
            }
            try domain.resume()
            return true
        }
    }

    /// The user and group qemu runs as on this host (libvirt's DAC base label), so files and sockets qemu must
    /// open can be given to it; nil when libvirt runs qemu without DAC separation.
    func qemuIdentity() async throws(SnaplabError) -> (uid: UInt32, gid: UInt32)? {
        let capabilities = try await capabilities()
        guard let start = capabilities.range(of: "<baselabel type='qemu'>+"),
            let end = capabilities[start.upperBound...].range(of: "</baselabel>")
        else { return nil }
        let label = capabilities[start.upperBound..<end.lowerBound].split(separator: ":")
        guard label.count == 2, let uid = UInt32(label[0]), let gid = UInt32(label[1].drop { $0 == "+" }) else {
            return nil
        }
        return (uid, gid)
    }
}
