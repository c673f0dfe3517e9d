import ArgumentParser
import Hummingbird
import Logging
import ServiceLifecycle
import SnaplabCore
import SnaplabServer

/// Where to listen, shared by `serve` and `daemon`.
struct ListenOptions: ParsableArguments {
    @Option(help: "Address to listen on (a non-loopback one needs `snaplab credentials create` first).")
    var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8780
    @Option(
        name: .customLong("server-name"),
        help: "Another host name clients use to reach the server (repeatable); requests naming others are refused.")
    var serverNames: [String] = []

    var configuration: ServerConfiguration { ServerConfiguration(host: host, port: port, serverNames: serverNames) }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the EC2 Query API (POST /), the JSON API (/api) and the control screen (/).",
        discussion: "Try: aws ec2 describe-volumes --endpoint-url http://127.0.0.1:8780 --region snaplab")

    @OptionGroup var lab: LabOptions
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        let opened = try await lab.openLab()
        let logger = Logger(label: "snaplab.serve")
        let app = try SnaplabServer.buildApplication(lab: opened, configuration: listen.configuration)
        // Shut down in reverse order: the server stops taking requests, then the copies it started are drained.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: opened.background), .init(service: app)],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Access keys for the API (SigV4, as the AWS tools sign).",
        subcommands: [Create.self, List.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new access key id and secret.")
        @OptionGroup var lab: LabOptions

        func run() async throws {
            let key = try AccessKeys.create(lab.paths)
            print("aws_access_key_id = \(key.accessKeyId)")
            print("aws_secret_access_key = \(key.secretAccessKey)")
            print("(saved in \(AccessKeys.file(in: lab.paths).path); the server requires signed requests from now on)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List access key ids.")
        @OptionGroup var lab: LabOptions

        func run() async throws {
            for key in try AccessKeys.load(lab.paths).keys {
                print("\(key.accessKeyId)  created \(Printer.date(key.createdAt))")
            }
        }
    }
}
