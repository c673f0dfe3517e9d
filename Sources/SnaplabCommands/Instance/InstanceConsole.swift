import ArgumentParser
import Foundation

extension InstanceCommand {
    struct Console: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an instance's serial console log.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Option(help: "Only the last N lines.") var tail: Int?
        @Flag(
            help:
                "Stream what the guest prints from now on, through libvirt (any host, also one on another machine); Ctrl-C ends."
        )
        var follow = false

        func run() async throws {
            let lab = try await lab.openLab()
            if follow {
                return try await lab.instances.followConsole(id) { data in
                    FileHandle.standardOutput.write(data)
                    return true
                }
            }
            let text = try await lab.instances.console(id)
            guard let tail else { return print(text, terminator: "") }
            print(
                text.split(separator: "\n", omittingEmptySubsequences: false).suffix(tail + 1)
                    .joined(separator: "\n"), terminator: "")
        }
    }
}
