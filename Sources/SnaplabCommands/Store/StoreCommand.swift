import ArgumentParser
import SnaplabCore

struct StoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Check and tidy the snapshot store.",
        subcommands: [Verify.self, GC.self, Repair.self, Show.self, Copy.self, KeyCommand.self]
    )

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: "Where the store is.")
        @OptionGroup var lab: LabOptions

        func run() async throws {
            let lab = try await lab.openLab()
            let store = try await lab.store.open()
            print(
                "\(try await lab.store.url()): chunk size \(ByteSize.format(UInt64(store.config.chunkSize))), \(store.index.count) chunks"
            )
        }
    }
}
