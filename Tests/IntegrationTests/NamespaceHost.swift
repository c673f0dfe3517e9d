import Foundation
import SnaplabTestSupport

/// A second libvirt host in its own network and mount namespaces (`scripts/netns-host.sh`): reached only over
/// TCP on a veth pair, with a pool no process outside it can see. Stopped (its qemu processes, daemons and
/// namespace) when the test ends, whether it passed or not.
struct NamespaceHost {
    let name: String
    let uri: String
    let directory: URL
    /// The pool's directory inside the host's mount namespace.
    static let poolPath = "/var/lib/snaplab-pool"
    static let script = ImageFixture.repositoryRoot.appendingPathComponent("scripts/netns-host.sh")

    static func with(_ body: (NamespaceHost) async throws -> Void) async throws {
        let suffix = UUID().uuidString.prefix(6).lowercased()
        let name = "t\(suffix)"
        let directory = URL(fileURLWithPath: "/tmp/snaplab-netns-\(suffix)")
        let index = Int.random(in: 1...250)
        let started = try await ScriptRunner.run(
            "/bin/sh", [script.path, "start", name, String(index), directory.path])
        guard started.status == 0 else {
            throw HostTools.ToolFailure(command: "netns-host.sh start", status: started.status, output: started.text)
        }
        let uri = started.text.split(separator: "\n").last.map(String.init) ?? ""
        let host = NamespaceHost(name: name, uri: uri, directory: directory)
        do {
            try await body(host)
        } catch {
            await host.stop()
            throw error
        }
        await host.stop()
    }

    func stop() async {
        _ = try? await ScriptRunner.run("/bin/sh", [Self.script.path, "stop", name, directory.path])
        try? FileManager.default.removeItem(at: directory)
    }

    /// The host dies at once: its libvirtd, virtlogd and qemu processes are killed.
    func kill() async throws {
        _ = try await ScriptRunner.run("/bin/sh", [Self.script.path, "kill", name, directory.path])
    }
}
