/// A storage volume definition: qcow2, or raw for boot files and seeds. qcow2 is always compat 1.1: libvirt's
/// default (0.10, qcow2 v2) cannot hold the persistent dirty bitmaps that checkpoints and incremental snapshots
/// need.
struct VolumeXML {
    var name: String
    var capacity: UInt64
    /// A copy-on-write overlay on this (qcow2) file, when set.
    var backingPath: String?
    /// `qcow2`, or `raw` for files a domain reads as they are (a kernel, an initramfs, a seed image).
    var format = "qcow2"

    func render() -> String {
        var xml = """
            <volume type='file'>
              <name>\(XMLText.escape(name))</name>
              <capacity unit='bytes'>\(capacity)</capacity>
              <allocation unit='bytes'>0</allocation>
              <target>
                <format type='\(format)'/>
                <permissions><mode>0644</mode></permissions>
                \(format == "qcow2" ? "<compat>1.1</compat>" : "")
              </target>

            """
        if let backingPath {
            xml += """
                  <backingStore>
                    <path>\(XMLText.escape(backingPath))</path>
                    <format type='qcow2'/>
                  </backingStore>

                """
        }
        xml += "</volume>\n"
        return xml
    }
}
