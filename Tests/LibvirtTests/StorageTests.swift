import Foundation
import Libvirt
import Testing

@Suite struct StorageTests {
    @Test func dirPoolAndQcow2Volumes() throws {
        let connection = try Connection(uri: "test:///default")
        let name = "pool-\(UUID().uuidString.prefix(8).lowercased())"
        let pool = try connection.defineStoragePool(
            xml: """
                <pool type='dir'><name>\(name)</name><target><path>/pools/\(name)</path></target></pool>
                """)
        try pool.build()
        try pool.start()
        try pool.setAutostart(true)
        #expect(try pool.isActive())
        try pool.refresh()

        let volume = try pool.createVolume(
            xml: """
                <volume><name>disk.qcow2</name><capacity unit='MiB'>64</capacity>
                <target><format type='qcow2'/><compat>1.1</compat></target></volume>
                """)
        #expect(try volume.info().capacity == 64 << 20)
        #expect(try volume.path().hasSuffix("/disk.qcow2"))
        #expect(try pool.lookupVolume(name: "disk.qcow2").name == "disk.qcow2")
        #expect(try pool.allVolumes().map(\.name) == ["disk.qcow2"])
        try volume.delete()
        #expect(try pool.findVolume(name: "disk.qcow2") == nil)

        try pool.stop()
        try pool.undefine()
        #expect(try connection.findStoragePool(name: name) == nil)
    }

    @Test func unknownPoolIsNotFound() throws {
        let connection = try Connection(uri: "test:///default")
        #expect {
            _ = try connection.lookupStoragePool(name: "no-such-pool")
        } throws: { error in
            (error as? LibvirtError)?.isNotFound == true
        }
    }
}
