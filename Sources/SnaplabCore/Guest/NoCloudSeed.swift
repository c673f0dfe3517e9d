import Foundation

/// cloud-init's NoCloud data source on a small ISO 9660 volume labelled `cidata`: `meta-data` names the instance
/// (a new instance id per launch, so cloud-init treats every instance of an image as new) and carries the ssh
/// keys; `user-data` is the user's, or an empty cloud-config.
struct NoCloudSeed {
    let instanceId: String
    let customization: GuestCustomization

    /// The file under the lab's seeds directory.
    static func path(of instanceId: String, in paths: LabPaths) -> URL {
        paths.stateDirectory.appendingPathComponent("seeds").appendingPathComponent("\(instanceId)-cidata.iso")
    }

    var metaData: String {
        var text = "instance-id: \(instanceId)\nlocal-hostname: \(instanceId)\n"
        if !customization.sshPublicKeys.isEmpty {
            text += "public-keys:\n"
            for key in customization.sshPublicKeys {
                text += "  - \"\(key.replacingOccurrences(of: "\"", with: ""))\"\n"
            }
        }
        return text
    }

    /// Writes the ISO (genisoimage) at `destination`.
    func write(to destination: URL) async throws(SnaplabError) {
        let staging = destination.deletingLastPathComponent().appendingPathComponent(".\(instanceId)-seed")
        try Directories.create(staging)
        defer { try? FileManager.default.removeItem(at: staging) }
        do {
            try Data(metaData.utf8).write(to: staging.appendingPathComponent("meta-data"))
            try (customization.userData ?? Data("#cloud-config\n{}\n".utf8))
                .write(to: staging.appendingPathComponent("user-data"))
        } catch {
            throw SnaplabError(
                .io, "cannot write the cloud-init seed of \(instanceId) in \(staging.path)", cause: error)
        }
        let log = staging.appendingPathComponent("genisoimage.log")
        do {
            try await ChildProcess.run(
                "/usr/bin/genisoimage",
                [
                    "-quiet", "-output", destination.path, "-volid", "cidata", "-joliet", "-rock",
                    staging.appendingPathComponent("user-data").path, staging.appendingPathComponent("meta-data").path,
                ], log: log)
        } catch let failure as ChildProcess.Failure {
            throw SnaplabError(
                .io, "genisoimage could not write the cloud-init seed of \(instanceId): \(failure.logTail)")
        } catch {
            throw SnaplabError(
                .io, "cannot run genisoimage for the cloud-init seed (install the Debian package genisoimage)",
                cause: error)
        }
    }
}
