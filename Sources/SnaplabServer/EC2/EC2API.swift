import Foundation
import SnaplabCore

/// The EC2 Query API over the lab: one handler per action, every one going through the same controller calls
/// the CLI uses.
struct EC2API: Sendable {
    static let version = "2016-11-15"
    static let namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"
    static let zone = "snaplab"
    static let owner = "000000000000"
    /// The one region the lab answers for (`aws … --region snaplab`).
    static let region = "snaplab"
    /// The most instances one RunInstances may start (a lab on one or a few hosts, not a fleet).
    static let maxInstancesPerRequest = 20

    let lab: Lab

    private func dispatch(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        switch parameters.action {
        case "CreateVolume": try await createVolume(parameters)
        case "DeleteVolume": try await deleteVolume(parameters)
        case "DescribeVolumes": try await describeVolumes(parameters)
        case "AttachVolume": try await attachVolume(parameters)
        case "DetachVolume": try await detachVolume(parameters)
        case "CreateSnapshot": try await createSnapshot(parameters)
        case "CreateSnapshots": try await createSnapshots(parameters)
        case "DeleteSnapshot": try await deleteSnapshot(parameters)
        case "DescribeSnapshots": try await describeSnapshots(parameters)
        case "RegisterImage": try await registerImage(parameters)
        case "CreateImage": try await createImage(parameters)
        case "DeregisterImage": try await deregisterImage(parameters)
        case "DescribeImages": try await describeImages(parameters)
        case "RunInstances": try await runInstances(parameters)
        case "StartInstances": try await changeStates(parameters, .start)
        case "StopInstances": try await changeStates(parameters, .stop(force: parameters.bool("Force")))
        case "TerminateInstances": try await changeStates(parameters, .terminate)
        case "DescribeInstances": try await describeInstances(parameters)
        case "CreateTags": try await createTags(parameters)
        case "DeleteTags": try await deleteTags(parameters)
        case "DescribeTags": try await describeTags(parameters)
        default:
            throw EC2Error(
                code: "InvalidAction",
                message:
                    "The action \(parameters.action.isEmpty ? "(none)" : parameters.action) is not valid for this web service."
            )
        }
    }

    /// Answers one request: the XML body and the HTTP status.
    func respond(_ parameters: EC2Parameters, requestId: String) async -> (status: Int, body: String) {
        do throws(EC2Error) {
            // First: a message may quote what the request says, and XML cannot carry every character.
            try parameters.checkXMLSafe()
            if let version = parameters["Version"], version != Self.version {
                throw EC2Error(
                    code: "InvalidParameterValue", message: "Version \(version) is not supported; use \(Self.version)")
            }
            let children = try await dispatch(parameters)
            var body =
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(parameters.action)Response xmlns=\"\(Self.namespace)\">"
            XMLElement("requestId", requestId).render(into: &body)
            for child in children { child.render(into: &body) }
            body += "</\(parameters.action)Response>"
            return (200, body)
        } catch {
            return (error.status, error.xml(requestId: requestId))
        }
    }

    /// Runs a controller call, turning its errors into EC2's.
    func call<T>(_ body: () async throws(SnaplabError) -> T) async throws(EC2Error) -> T {
        do {
            return try await body()
        } catch {
            throw EC2Error(error)
        }
    }

    static func gibibytes(_ bytes: UInt64) -> String { String(max(1, (bytes + (1 << 30) - 1) >> 30)) }
}
