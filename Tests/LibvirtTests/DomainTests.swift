import Foundation
import Libvirt
import Testing

@Suite struct DomainTests {
    static func testDomainXML(_ name: String) -> String {
        """
        <domain type='test'>
          <name>\(name)</name>
          <memory unit='MiB'>64</memory>
          <os><type>hvm</type></os>
        </domain>
        """
    }

    /// The test driver knows no checkpoints, so it refuses that flag.
    static let testDriverUndefine: Domain.UndefineOptions = [.managedSave, .snapshotsMetadata]

    static func uniqueName(_ base: String) -> String {
        "\(base)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    @Test func defineStartDestroyUndefine() throws {
        let connection = try Connection(uri: "test:///default")
        let name = Self.uniqueName("lifecycle")
        let domain = try connection.defineDomain(xml: Self.testDomainXML(name))
        #expect(domain.name == name)
        #expect(try domain.isPersistent())
        #expect(try domain.state() == .shutoff)
        try domain.start()
        #expect(try domain.state() == .running)
        #expect(try domain.xml().contains("<name>\(name)</name>"))
        #expect(try connection.lookupDomain(uuid: domain.uuid()).name == name)
        try domain.destroy()
        #expect(try domain.state() == .shutoff)
        try domain.undefine(Self.testDriverUndefine)
        #expect(try connection.findDomain(name: name) == nil)
    }

    @Test func unknownDomainIsNotFound() throws {
        let connection = try Connection(uri: "test:///default")
        #expect {
            _ = try connection.lookupDomain(name: "no-such-domain")
        } throws: { error in
            (error as? LibvirtError)?.isNotFound == true && (error as? LibvirtError)?.code == 42
        }
    }

    @Test func startingARunningDomainCarriesLibvirtsCodeAndMessage() throws {
        let connection = try Connection(uri: "test:///default")
        let domain = try connection.defineDomain(xml: Self.testDomainXML(Self.uniqueName("twice")))
        defer {
            try? domain.destroy()
            try? domain.undefine(Self.testDriverUndefine)
        }
        try domain.start()
        #expect {
            try domain.start()
        } throws: { error in
            guard let error = error as? LibvirtError else { return false }
            return error.code > 0 && error.message.contains("already running")
        }
    }

    @Test func malformedXMLIsRefused() throws {
        let connection = try Connection(uri: "test:///default")
        #expect(throws: LibvirtError.self) {
            _ = try connection.defineDomain(xml: "<domain type='test'><name>broken")
        }
    }

    @Test func lifecycleEventsArriveAsAnAsyncStream() async throws {
        let connection = try Connection(uri: "test:///default")
        let events = try connection.lifecycleEvents()
        let name = Self.uniqueName("events")
        let domain = try connection.defineDomain(xml: Self.testDomainXML(name))
        try domain.start()
        try domain.destroy()
        try domain.undefine(Self.testDriverUndefine)
        var seen: [DomainEvent.Kind] = []
        for await event in events where event.domainName == name {
            seen.append(event.kind)
            if event.kind == .undefined { break }
        }
        #expect(seen == [.defined, .started, .stopped, .undefined])
    }
}
