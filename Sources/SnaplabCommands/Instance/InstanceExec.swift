import ArgumentParser
import Foundation

extension InstanceCommand {
    struct Exec: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a command in a running instance through its guest agent.",
            discussion: "Example: snaplab instance exec i-0123… -- /bin/sh -c 'echo hi > /data/hello'")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Option(help: "Seconds to wait for the command.") var timeout = 120
        @Argument(parsing: .postTerminator, help: "The program and its arguments, after --.") var command: [String]

        func validate() throws {
            if command.isEmpty { throw ValidationError("give the command after --") }
        }

        func run() async throws {
            let result = try await lab.openLab().instances.exec(id, command, timeout: .seconds(timeout))
            FileHandle.standardOutput.write(Data(result.stdout.utf8))
            FileHandle.standardError.write(Data(result.stderr.utf8))
            if result.exitCode != 0 { throw ExitCode(Int32(truncatingIfNeeded: result.exitCode)) }
        }
    }
}
