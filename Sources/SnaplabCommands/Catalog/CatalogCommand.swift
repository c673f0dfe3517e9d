import ArgumentParser

struct CatalogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catalog",
        abstract: "The controller's database.",
        subcommands: [Rebuild.self]
    )

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recover every completed snapshot into the catalog from the store alone.")
        @OptionGroup var lab: LabOptions

        func run() async throws {
            let result = try await lab.openLab().store.rebuildCatalog()
            print("recovered \(result.added) snapshots from the store; \(result.kept) were already listed")
        }
    }
}
