/// The libvirt domain definition of an instance: TCG (`type='qemu'`), direct kernel boot, virtio disks
/// (vda boot, vdb… data), serial console to a file, and the guest-agent channel.
struct DomainXML {
    struct Disk {
        var path: String
        var device: String
        /// Shows in the guest as /sys/block/DEV/serial, so the guest and its agent can name the volume.
        var serial: String
        /// A disk that reads through a block export (lazy): on an I/O error the guest pauses instead of seeing
        /// it, so a restarted export service can resume it (libvirt 9.0 has no NBD reconnect-delay).
        var stopOnError = false
        /// Written into the disk's definition when its qcow2 header alone does not say it (a copy's target).
        var backingPath: String?
    }

    static let metadataNamespace = "https://snaplab.dev/xmlns/instance/1"

    var name: String
    var memoryMiB: Int
    var vcpus: Int
    var kernel: String
    var initrd: String
    var cmdline: String
    var disks: [Disk]
    var consolePath: String
    /// Written into the domain's metadata so anyone can tell which lab owns it.
    var labStateDirectory: String

    /// One virtio disk element (also what hot-plug attaches and detaches).
    static func diskXML(_ disk: Disk) -> String {
        let errorPolicy = disk.stopOnError ? " error_policy='stop' rerror_policy='stop'" : ""
        return """
                <disk type='file' device='disk'>
                  <driver name='qemu' type='qcow2' discard='unmap'\(errorPolicy)/>
                  <source file='\(XMLText.escape(disk.path))'/>
                  <target dev='\(XMLText.escape(disk.device))' bus='virtio'/>
                  <serial>\(XMLText.escape(disk.serial))</serial>
                </disk>
            """
    }

    /// The target of a shallow block copy: an overlay on a local base, named with its backing file so that
    /// libvirt opens the chain as given.
    static func copyDestinationXML(_ disk: Disk) -> String {
        let backing =
            disk.backingPath.map {
                """
                  <backingStore type='file'>
                    <format type='qcow2'/>
                    <source file='\(XMLText.escape($0))'/>
                  </backingStore>

                """
            } ?? ""
        return """
            <disk type='file' device='disk'>
              <driver name='qemu' type='qcow2'/>
              <source file='\(XMLText.escape(disk.path))'/>
            \(backing)</disk>
            """
    }

    func render() -> String {
        let diskXML = disks.map(Self.diskXML).joined(separator: "\n")
        return """
            <domain type='qemu'>
              <name>\(XMLText.escape(name))</name>
              <metadata>
                <snaplab:instance xmlns:snaplab='\(Self.metadataNamespace)' id='\(XMLText.escape(name))' lab='\(XMLText.escape(labStateDirectory))'/>
              </metadata>
              <memory unit='MiB'>\(memoryMiB)</memory>
              <vcpu>\(vcpus)</vcpu>
              <os>
                <type arch='x86_64' machine='pc'>hvm</type>
                <kernel>\(XMLText.escape(kernel))</kernel>
                <initrd>\(XMLText.escape(initrd))</initrd>
                <cmdline>\(XMLText.escape(cmdline))</cmdline>
              </os>
              <features><acpi/></features>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>restart</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
            \(diskXML)
                <serial type='file'>
                  <source path='\(XMLText.escape(consolePath))' append='on'/>
                  <target port='0'/>
                </serial>
                <console type='file'>
                  <source path='\(XMLText.escape(consolePath))' append='on'/>
                  <target type='serial' port='0'/>
                </console>
                <channel type='unix'>
                  <target type='virtio' name='org.qemu.guest_agent.0'/>
                </channel>
                <memballoon model='none'/>
              </devices>
            </domain>
            """
    }
}
