import ArgumentParser
import Foundation
import SnaplabCore

/// `snaplab`: the lab's command-line front end.
public struct SnaplabCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "snaplab",
        abstract: "A private cloud lab for the snapshot pattern: volumes, snapshots, images and instances on libvirt.",
        subcommands: [
            HostCommand.self, ImageCommand.self, VolumeCommand.self, InstanceCommand.self, SnapshotCommand.self,
            StoreCommand.self, CatalogCommand.self, EnvironmentUp.self, EnvironmentDown.self,
            PolicyCommand.self, DaemonCommand.self, ServeCommand.self, CredentialsCommand.self,
            BenchCommand.self, ExportCommand.self, EventsCommand.self, RecycleBinCommand.self,
        ]
    )

    public init() {}

    /// Runs the command line; a `SnaplabError` becomes a message on stderr and its code's exit status.
    public static func runFromCommandLine() async {
        MemoryTuning.apply()
        do {
            var command = try parseAsRoot()
            if var command = command as? AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch let error as SnaplabError {
            FileHandle.standardError.write(Data("error: \(error.message)\n".utf8))
            if let cause = error.cause {
                FileHandle.standardError.write(Data("  cause: \(cause)\n".utf8))
            }
            Foundation.exit(ExitStatus.for(error.code))
        } catch {
            exit(withError: error)
        }
    }
}
