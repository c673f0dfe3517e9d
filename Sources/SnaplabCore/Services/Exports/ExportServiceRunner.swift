import Logging
import ServiceLifecycle

/// The export service inside `daemon` and `serve`: runs it for as long as they run (no idle exit). When a
/// detached service of the lab holds the socket already, waits and takes over once that one has exited.
public struct ExportServiceRunner: Service {
    let lab: Lab
    let logger = Logger(label: "snaplab.exports")

    public init(lab: Lab) {
        self.lab = lab
    }

    public func run() async throws {
        guard let service = await acquire() else { return }
        logger.info("serving exports", metadata: ["socket": "\(ExportService.socketPath(lab.paths))"])
        // A sibling service failing (the API's port taken) cancels the group instead of shutting it down.
        await withTaskCancellationOrGracefulShutdownHandler {
            await service.run(idleExit: nil)
        } onCancelOrGracefulShutdown: {
            service.stop()
        }
    }

    /// The lab's export service, once no other process holds it; nil when shutting down first.
    private func acquire() async -> ExportService? {
        var reported = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let attempt: Result<ExportService, SnaplabError>
            do throws(SnaplabError) {
                attempt = .success(try await ExportService.start(lab: lab))
            } catch {
                attempt = .failure(error)
            }
            switch attempt {
            case .success(let service):
                return service
            case .failure(let error):
                if !reported {
                    logger.notice(
                        "the export service is not running here yet; retrying", metadata: ["reason": "\(error.message)"]
                    )
                }
                reported = true
                try? await Task.sleep(for: .seconds(2))
            }
        }
        return nil
    }
}
