import Foundation
import NIOCore
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

    private func dispatch(_ parameters: EC2Parameters) async throws(EC2Error) -> EC2Result {
        if parameters.action == "DescribeSnapshots" { return try await describeSnapshots(parameters) }
        return .elements(try await dispatchElements(parameters))
    }

    private func dispatchElements(_ parameters: EC2Parameters) async throws(EC2Error) -> [XMLElement] {
        switch parameters.action {
        case "CreateVolume": try await createVolume(parameters)
        case "DeleteVolume": try await deleteVolume(parameters)
        case "DescribeVolumes": try await describeVolumes(parameters)
        case "AttachVolume": try await attachVolume(parameters)
        case "DetachVolume": try await detachVolume(parameters)
        case "CreateSnapshot": try await createSnapshot(parameters)
        case "CreateSnapshots": try await createSnapshots(parameters)
        case "DeleteSnapshot": try await deleteSnapshot(parameters)
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
        case "LockSnapshot": try await lockSnapshot(parameters)
        case "UnlockSnapshot": try await unlockSnapshot(parameters)
        case "DescribeLockedSnapshots": try await describeLockedSnapshots(parameters)
        case "ListSnapshotsInRecycleBin": try await listSnapshotsInRecycleBin(parameters)
        case "RestoreSnapshotFromRecycleBin": try await restoreSnapshotFromRecycleBin(parameters)
        case "GetEbsEncryptionByDefault": try await ebsEncryptionByDefault(parameters, wanted: nil)
        case "EnableEbsEncryptionByDefault": try await ebsEncryptionByDefault(parameters, wanted: true)
        case "DisableEbsEncryptionByDefault": try await ebsEncryptionByDefault(parameters, wanted: false)
        default:
            throw EC2Error(
                code: "InvalidAction",
                message:
                    "The action \(parameters.action.isEmpty ? "(none)" : parameters.action) is not valid for this web service."
            )
        }
    }

    static let actions: Set<String> = [
        "CreateVolume", "DeleteVolume", "DescribeVolumes", "AttachVolume", "DetachVolume", "CreateSnapshot",
        "CreateSnapshots", "DeleteSnapshot", "DescribeSnapshots", "RegisterImage", "CreateImage", "DeregisterImage",
        "DescribeImages", "RunInstances", "StartInstances", "StopInstances", "TerminateInstances",
        "DescribeInstances", "CreateTags", "DeleteTags", "DescribeTags", "LockSnapshot", "UnlockSnapshot",
        "DescribeLockedSnapshots", "ListSnapshotsInRecycleBin", "RestoreSnapshotFromRecycleBin",
        "GetEbsEncryptionByDefault", "EnableEbsEncryptionByDefault", "DisableEbsEncryptionByDefault",
    ]

    /// The action as a metrics label: anything a client may send outside the known ones is `unknown`, so a
    /// hostile client cannot make series without end.
    static func knownAction(_ action: String) -> String { actions.contains(action) ? action : "unknown" }

    /// Answers one request: the HTTP status and the XML body. A long listing's first page is read before the
    /// answer starts (so its errors are EC2 errors); the rest is rendered and sent page by page.
    func respond(_ parameters: EC2Parameters, requestId: String) async -> (status: Int, body: EC2Body) {
        do throws(EC2Error) {
            // First: a message may quote what the request says, and XML cannot carry every character.
            try parameters.checkXMLSafe()
            if let version = parameters["Version"], version != Self.version {
                throw EC2Error(
                    code: "InvalidParameterValue", message: "Version \(version) is not supported; use \(Self.version)")
            }
            let action = parameters.action
            var head = ByteBuffer(
                string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<\(action)Response xmlns=\"\(Self.namespace)\">")
            XMLElement("requestId", requestId).render(into: &head)
            switch try await dispatch(parameters) {
            case .elements(let children):
                for child in children { child.render(into: &head) }
                XMLElement.close("\(action)Response", into: &head)
                return (200, .whole(head))
            case .pagedSet(let name, let fetch):
                let first = try await call { () async throws(SnaplabError) in try await fetch(nil) }
                XMLElement.open(name, into: &head)
                return (200, .streamed(EC2PagedSet(name: name, action: action, fetch: fetch).stream(head, first)))
            }
        } catch {
            return (error.status, .whole(error.xmlBuffer(requestId: requestId)))
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
