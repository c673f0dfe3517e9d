import ArgumentParser
import Foundation
import SnaplabCore
import SnapshotStore

/// A key source from the command line: a key file, else the passphrase in SNAPLAB_STORE_PASSPHRASE.
enum StoreKeyOptions {
    static func source(keyFile: String?) throws -> StoreKeySource {
        if let keyFile { return .keyFile(URL(fileURLWithPath: keyFile)) }
        if let passphrase = ProcessInfo.processInfo.environment["SNAPLAB_STORE_PASSPHRASE"], !passphrase.isEmpty {
            return .passphrase(passphrase)
        }
        throw ValidationError("give --key-file FILE, or the passphrase in SNAPLAB_STORE_PASSPHRASE")
    }
}

extension StoreCommand {
    struct KeyCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "key",
            abstract: "The keys of an encrypted store: each wraps its master key; any one unlocks it.",
            subcommands: [List.self, Add.self, Remove.self, Generate.self])

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List the store's keys.")
            @OptionGroup var lab: LabOptions
            @Option var output: OutputFormat = .table

            func run() async throws {
                let keys = try await lab.openLab().store.wrappedKeys()
                if output == .json { return try Printer.json(keys) }
                Printer.table(
                    ["ID", "KIND", "CREATED", "NOTE"],
                    keys.map {
                        [$0.id, $0.kind.rawValue, ISO8601DateFormatter().string(from: $0.createdAt), $0.note ?? ""]
                    })
            }
        }

        struct Add: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract:
                    "Wrap the master key for another key file (or the passphrase in SNAPLAB_NEW_STORE_PASSPHRASE).",
                discussion:
                    "The store is opened with its current key (SNAPLAB_STORE_KEY_FILE, or the one host init recorded).")
            @OptionGroup var lab: LabOptions
            @Option(help: "The new key file.") var newKeyFile: String?
            @Option(help: "What the key is for.") var note: String?

            func run() async throws {
                let source: StoreKeySource
                if let newKeyFile {
                    source = .keyFile(URL(fileURLWithPath: newKeyFile))
                } else if let passphrase = ProcessInfo.processInfo.environment["SNAPLAB_NEW_STORE_PASSPHRASE"],
                    !passphrase.isEmpty
                {
                    source = .passphrase(passphrase)
                } else {
                    throw ValidationError(
                        "give --new-key-file FILE, or the new passphrase in SNAPLAB_NEW_STORE_PASSPHRASE")
                }
                let key = try await lab.openLab().store.addKey(source, note: note)
                print(key.id)
            }
        }

        struct Remove: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Remove one key (not the last).",
                discussion:
                    "It stops that key file or passphrase from opening the store; it does not revoke a copy of the master key already taken with it."
            )
            @OptionGroup var lab: LabOptions
            @Argument(help: "The key id (key-…).") var id: String

            func run() async throws {
                try await lab.openLab().store.removeKey(id)
                print("removed \(id)")
            }
        }

        struct Generate: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Write a new random key file (32 bytes, base64, mode 0600); never overwrites one.")
            @Argument(help: "Where to write it.") var file: String

            func run() throws {
                do throws(StoreError) {
                    try StoreKeySource.generateKeyFile(at: URL(fileURLWithPath: file))
                } catch {
                    throw SnaplabError(store: error)
                }
                print("wrote \(file)")
            }
        }
    }
}
