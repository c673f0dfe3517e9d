import NIOCore
import SnaplabCore

/// An error as EC2 reports it: a code clients switch on (`InvalidVolume.NotFound`…), a message, an HTTP status.
struct EC2Error: Error, Sendable {
    var code: String
    var message: String
    var status: Int = 400

    /// The one mapping from the controller's errors to EC2's codes.
    init(_ error: SnaplabError) {
        message = error.message
        let kind = error.subject.map(Self.kind) ?? ""
        switch (error.code, error.detail) {
        case (.notFound, _):
            code =
                [
                    "vol": "InvalidVolume.NotFound", "snap": "InvalidSnapshot.NotFound", "ami": "InvalidAMIID.NotFound",
                    "i": "InvalidInstanceID.NotFound", "pol": "InvalidParameterValue",
                ][kind] ?? "InvalidParameterValue"
        case (.invalidArgument, .malformedId):
            code =
                [
                    "vol": "InvalidVolumeID.Malformed", "snap": "InvalidSnapshotID.Malformed",
                    "ami": "InvalidAMIID.Malformed",
                    "i": "InvalidInstanceID.Malformed",
                ][kind] ?? "InvalidParameterValue"
        case (.invalidArgument, _):
            code = "InvalidParameterValue"
        case (.invalidState, .inUse) where kind == "vol":
            code = "VolumeInUse"
        case (.conflict, .inUse) where kind == "snap":
            code = "InvalidSnapshot.InUse"
        case (.invalidState, _) where kind == "i":
            code = "IncorrectInstanceState"
        case (.invalidState, _), (.conflict, _):
            code = "IncorrectState"
        case (.timeout, _), (.hypervisor, _), (.guest, _), (.store, _), (.io, _), (.internal, _):
            code = "InternalError"
            status = 500
        }
    }

    init(code: String, message: String, status: Int = 400) {
        self.code = code
        self.message = message
        self.status = status
    }

    private static func kind(_ id: String) -> String {
        String(id.prefix { $0 != "-" })
    }

    /// `<Response><Errors><Error>…</Error></Errors><RequestID>…</RequestID></Response>`.
    func xml(requestId: String) -> String {
        String(buffer: xmlBuffer(requestId: requestId))
    }

    func xmlBuffer(requestId: String) -> ByteBuffer {
        var output = ByteBuffer(string: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
        XMLElement(
            "Response",
            [
                XMLElement(
                    "Errors", [XMLElement("Error", [XMLElement("Code", code), XMLElement("Message", message)])]),
                XMLElement("RequestID", requestId),
            ]
        ).render(into: &output)
        return output
    }
}
