import ArgumentParser

extension SnapshotCommand {
    struct Pin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Pin a snapshot: no policy ever prunes it.")
        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String

        func run() async throws {
            _ = try await lab.openLab().snapshots.setPinned(id, true)
            print("pinned \(id)")
        }
    }

    struct Unpin: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Unpin a snapshot.")
        @OptionGroup var lab: LabOptions
        @Argument(help: "The snapshot id (snap-…).") var id: String

        func run() async throws {
            _ = try await lab.openLab().snapshots.setPinned(id, false)
            print("unpinned \(id)")
        }
    }
}
