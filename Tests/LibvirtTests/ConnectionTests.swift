import Foundation
import Libvirt
import Testing

/// The wrapper against libvirt's built-in test driver (`test:///default`): no daemon, no qemu.
@Suite struct ConnectionTests {
    @Test func opensAndReportsVersions() throws {
        let connection = try Connection(uri: "test:///default")
        #expect(try connection.libraryVersion() >= Version(packed: 1_000_000))
        #expect(try connection.hypervisorVersion().major >= 0)
        #expect(try connection.capabilities().contains("<capabilities>"))
        #expect(try connection.canonicalURI() == "test:///default")
        #expect(connection.isAlive)
    }

    @Test func badURIIsATypedErrorWithLibvirtsMessage() {
        #expect {
            _ = try Connection(uri: "nosuchdriver:///nowhere")
        } throws: { error in
            guard let error = error as? LibvirtError else { return false }
            return error.code > 0 && !error.message.isEmpty && error.operation.contains("virConnectOpen")
        }
    }
}
