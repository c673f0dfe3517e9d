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
    @Option(help: "PEM certificate (chain) to serve HTTPS with (needs --tls-key).") var tlsCert: String?
    @Option(help: "PEM private key of --tls-cert.") var tlsKey: String?

    func validate() throws {
        if (tlsCert == nil) != (tlsKey == nil) { throw ValidationError("--tls-cert and --tls-key go together") }
    }

    var configuration: ServerConfiguration {
        ServerConfiguration(
            host: host, port: port, serverNames: serverNames,
            tls: tlsCert.flatMap { certificate in tlsKey.map { (certificate, $0) } })
    }
}

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the EC2 Query API (POST /), the JSON API (/api) and the control screen (/).",
        discussion: "Try: aws ec2 describe-volumes --endpoint-url http://127.0.0.1:8780 --region snaplab")

    @OptionGroup var lab: LabOptions
    @OptionGroup var listen: ListenOptions

    func run() async throws {
        let opened = try await lab.openLab(longRunning: true)
        let logger = Logger(label: "snaplab.serve")
        let app = try SnaplabServer.buildApplication(lab: opened, configuration: listen.configuration)
        // Shut down in reverse order: the server stops taking requests, then the copies it started are drained.
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [
                    .init(service: opened.background), .init(service: ExportServiceRunner(lab: opened)),
                    .init(service: app),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
        try await group.run()
    }
}

struct CredentialsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Access keys for the API (SigV4, as the AWS tools sign) and the console's password.",
        subcommands: [Create.self, List.self, ConsolePasswordCommand.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a new access key id and secret.")
        @OptionGroup var lab: LabOptions

        func run() async throws {
            let key = try AccessKeys.create(lab.paths)
            print("aws_access_key_id = \(key.accessKeyId)")
            print("aws_secret_access_key = \(key.secretAccessKey)")
            print("(saved in \(AccessKeys.file(in: lab.paths).path); the server requires signed requests from now on)")
            if try ConsolePassword.load(lab.paths) == nil {
                print("the console now needs a password: run `snaplab credentials console-password`")
            }
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

extension CredentialsCommand {
    struct ConsolePasswordCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "console-password",
            abstract: "Set the password the control screen signs in with (read from stdin, first line).",
            discussion: "Stored as an scrypt hash; a running server reads it when it starts.")
        @OptionGroup var lab: LabOptions

        func run() async throws {
            guard let line = readLine(strippingNewline: true) else {
                throw ValidationError("give the password on stdin, e.g. `snaplab credentials console-password < file`")
            }
            try ConsolePassword.set(line, paths: lab.paths)
            print("console password saved in \(ConsolePassword.file(in: lab.paths).path)")
        }
    }
}
