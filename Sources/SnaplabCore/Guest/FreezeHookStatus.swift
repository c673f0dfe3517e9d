import Foundation

/// What the guest's fsfreeze hook left of the last freeze (images/*/rootfs/etc/qemu/fsfreeze-hook writes it): how
/// many application hooks there were, and how each ended.
struct FreezeHookStatus {
    static let path = "/run/snaplab-fsfreeze.status"

    var hookCount: Int
    var outcomes: [(name: String, status: Int)]

    /// Every hook ran (at least one) and succeeded: the snapshot is application-consistent.
    var allSucceeded: Bool {
        hookCount > 0 && outcomes.count == hookCount && outcomes.allSatisfy { $0.status == 0 }
    }

    var summary: String {
        if hookCount == 0 { return "no application hooks in the guest" }
        let listed = outcomes.map { $0.status == 0 ? $0.name : "\($0.name) (exit \($0.status))" }
        return "application hooks: \(listed.joined(separator: ", "))"
    }

    /// Parses "hooks N" and "freeze NAME STATUS" lines; nil for anything else (a hook of another kind).
    init?(parsing text: String) {
        var count: Int?
        var outcomes: [(name: String, status: Int)] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let fields = line.split(separator: " ").map(String.init)
            if fields.count == 2, fields[0] == "hooks", let number = Int(fields[1]) {
                count = number
            } else if fields.count == 3, fields[0] == "freeze", let status = Int(fields[2]) {
                outcomes.append((fields[1], status))
            } else {
                return nil
            }
        }
        guard let count else { return nil }
        self.hookCount = count
        self.outcomes = outcomes
    }

    /// Reads and removes the status after a thaw (so that a later freeze without the hook cannot reuse it); nil
    /// when the guest has no such hook or the agent cannot run it.
    static func read(from agent: GuestAgent) async -> FreezeHookStatus? {
        let script = "cat \(path) 2>/dev/null && rm -f \(path)"
        guard let result = try? await agent.exec(["/bin/sh", "-c", script], timeout: .seconds(30)),
            result.exitCode == 0
        else { return nil }
        return FreezeHookStatus(parsing: result.stdout)
    }
}
