import ArgumentParser

struct ImageCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "image",
        abstract: "Build guest images from recipes.",
        subcommands: [Build.self]
    )
}
