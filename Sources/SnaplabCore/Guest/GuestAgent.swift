import Foundation
import Libvirt

/// Talks to qemu-ga inside a running instance through libvirt.
struct GuestAgent {
    let hypervisor: Hypervisor
    let domain: String

    /// Runs a program in the guest and waits for it: `guest-exec` with captured output, then
    /// `guest-exec-status` until it has exited.
    func exec(_ arguments: [String], input: Data? = nil, timeout: Duration) async throws(SnaplabError) -> ExecResult {
        guard let path = arguments.first else {
            throw SnaplabError(.invalidArgument, "nothing to run: give a command after --")
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        try await waitUntilResponsive(deadline: deadline)
        var execArguments: [String: Any] = ["path": path, "arg": Array(arguments.dropFirst()), "capture-output": true]
        if let input { execArguments["input-data"] = input.base64EncodedString() }
        let started = try await command("guest-exec", execArguments)
        guard let pid = started["pid"] as? Int else {
            throw SnaplabError(.guest, "the guest agent of \(domain) did not return a pid for guest-exec")
        }
        while true {
            let status = try await command("guest-exec-status", ["pid": pid])
            if status["exited"] as? Bool == true {
                return ExecResult(
                    exitCode: status["exitcode"] as? Int ?? (status["signal"] as? Int).map { 128 + $0 } ?? -1,
                    stdout: Self.decode(status["out-data"]),
                    stderr: Self.decode(status["err-data"]))
            }
            if clock.now >= deadline {
                throw SnaplabError(
                    .timeout,
                    "`\(arguments.joined(separator: " "))` in \(domain) did not finish within \(timeout); it is still running in the guest (pid \(pid))"
                )
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    /// True when the agent answers `guest-ping` at once (false while it is not connected or not running yet).
    func answers() async -> Bool {
        (try? await command("guest-ping", [:], timeoutSeconds: 1)) != nil
    }

    /// Waits until the agent answers `guest-ping` (it starts a moment after the guest says ready).
    func waitUntilResponsive(deadline: ContinuousClock.Instant) async throws(SnaplabError) {
        while true {
            do throws(SnaplabError) {
                _ = try await command("guest-ping", [:], timeoutSeconds: 5)
                return
            } catch {
                guard error.code == .guest, ContinuousClock().now < deadline else { throw error }
            }
            try? await Task.sleep(for: .milliseconds(250))
        }
    }

    /// One agent command; returns the `return` object of the reply.
    func command(_ name: String, _ arguments: [String: Any], timeoutSeconds: Int32 = 30)
        async throws(SnaplabError) -> [String: Any]
    {
        let request: [String: Any] = arguments.isEmpty ? ["execute": name] : ["execute": name, "arguments": arguments]
        let json: String
        do {
            json = String(decoding: try JSONSerialization.data(withJSONObject: request), as: UTF8.self)
        } catch {
            throw SnaplabError(.internal, "cannot encode guest agent command \(name)")
        }
        let reply: String
        do {
            reply = try await hypervisor.agentCommand(domain: domain, json: json, timeoutSeconds: timeoutSeconds)
        } catch {
            if let cause = error.cause as? LibvirtError, cause.isAgentUnavailable || cause.message.contains("agent") {
                throw SnaplabError(
                    .guest,
                    "the guest agent of \(domain) is not answering (\(cause.message)); is qemu-ga running in the guest?",
                    cause: cause)
            }
            throw error
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(reply.utf8))) as? [String: Any]
        if let result = object?["return"] as? [String: Any] { return result }
        if object?["return"] != nil { return [:] }
        throw SnaplabError(.guest, "unexpected guest agent reply to \(name): \(reply)")
    }

    private static func decode(_ value: Any?) -> String {
        guard let text = value as? String, let data = Data(base64Encoded: text) else { return "" }
        return String(decoding: data, as: UTF8.self)
    }
}

/// What a command run in a guest returned.
public struct ExecResult: Sendable, Codable, Equatable {
    public var exitCode: Int
    public var stdout: String
    public var stderr: String
}
