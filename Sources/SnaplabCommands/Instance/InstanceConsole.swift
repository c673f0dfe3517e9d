import ArgumentParser

extension InstanceCommand {
    struct Console: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print an instance's serial console log.")

        @OptionGroup var lab: LabOptions
        @Argument(help: "The instance id (i-…).") var id: String
        @Option(help: "Only the last N lines.") var tail: Int?

        func run() async throws {
            let text = try await lab.openLab().instances.console(id)
            guard let tail else { return print(text, terminator: "") }
            print(
                text.split(separator: "\n", omittingEmptySubsequences: false).suffix(tail + 1)
                    .joined(separator: "\n"), terminator: "")
        }
    }
}
