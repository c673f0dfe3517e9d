import ArgumentParser
import Foundation
import SnaplabCore

extension InstanceCommand {
    struct SSH: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "ssh",
            abstract: "Open ssh to an instance, through its port forwarded on 127.0.0.1.",
            discussion: """
                Its host key is new with every instance, so it is neither checked nor remembered. Example: \
                snaplab instance ssh i-0123… --identity ~/.ssh/id_ed25519 -- uname -a
                """)

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Option(help: "The user to log in as (the image's default user).") var user = "debian"
        @Option(help: "The private key to log in with.") var identity: String?
        @Argument(parsing: .postTerminator, help: "A command to run instead of a shell, after --.")
        var command: [String] = []

        func run() async throws {
            let instance = try await lab.openLab().instances.get(id)
            guard instance.state == .running else {
                throw SnaplabError(
                    .invalidState, "instance \(id) is \(instance.state.rawValue); ssh reaches running instances")
            }
            guard let port = instance.sshPort else {
                throw SnaplabError(
                    .invalidState, "instance \(id) was launched without a network; relaunch it to reach it by ssh")
            }
            var arguments = [
                "ssh", "-p", "\(port)", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
                "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=30",
            ]
            if let identity { arguments += ["-i", identity, "-o", "IdentitiesOnly=yes"] }
            arguments += ["\(user)@127.0.0.1"] + command
            // Replaces this process: the terminal and the exit status are ssh's.
            let argv = arguments.map { strdup($0) } + [nil]
            execvp("ssh", argv)
            throw SnaplabError(
                .io, "cannot run ssh (install the Debian package openssh-client): \(String(cString: strerror(errno)))")
        }
    }
}
