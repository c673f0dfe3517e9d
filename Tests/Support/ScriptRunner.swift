import Foundation
import Subprocess
import SystemPackage

/// Runs a script that starts daemons (a Ceph cluster, a libvirt host in namespaces) to its end. Through
/// swift-subprocess: Foundation's `Process` learns of a child's exit from a descriptor the child inherits, and
/// the daemons it leaves running inherit it too, so `waitUntilExit` never returns (and holds a thread meanwhile).
public enum ScriptRunner {
    public static func run(_ executable: String, _ arguments: [String]) async throws -> (status: Int32, text: String) {
        let result = try await Subprocess.run(
            .path(FilePath(executable)), arguments: Arguments(arguments), input: .none,
            output: .string(limit: 1 << 20), error: .combinedWithOutput)
        let status: Int32 =
            switch result.terminationStatus {
            case .exited(let code): Int32(code)
            case .signaled(let signal): 128 + Int32(signal)
            }
        return (status, result.standardOutput)
    }
}
