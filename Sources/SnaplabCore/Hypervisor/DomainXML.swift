/// The libvirt domain definition of an instance: TCG (`type='qemu'`), direct kernel boot or firmware (SeaBIOS,
/// OVMF with a per-domain NVRAM copy), virtio disks (vda boot, vdb… data, vdz a read-only cloud-init seed), one
/// user-mode NIC with the guest's ssh port forwarded to 127.0.0.1, serial console to a file, and the guest-agent
/// channel.
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

    /// OVMF without Secure Boot (Debian's `ovmf`); the variable store starts as a copy of the template, which
    /// is empty, so the disk's loader must sit at the removable-media path `\EFI\BOOT\BOOTX64.EFI`.
    static let uefiCode = "/usr/share/OVMF/OVMF_CODE_4M.fd"
    static let uefiVariablesTemplate = "/usr/share/OVMF/OVMF_VARS_4M.fd"
    /// The NIC's PCI slot: the last one, so that libvirt's own devices and hot-plugged disks never take it.
    static let nicSlot = "0x1f"
    /// The cloud-init seed's disk: after every data disk (vdb … vdy).
    static let seedDevice = "vdz"

    var name: String
    var memoryMiB: Int
    var vcpus: Int
    var firmware: Firmware = .direct
    var kernel: String
    var initrd: String
    var cmdline: String
    var disks: [Disk]
    /// The NoCloud seed, attached read-only as the last virtio disk (cloud kernels have no IDE CD-ROM).
    var seedPath: String?
    /// The port on the host's 127.0.0.1 forwarded to the guest's port 22 (nil: no NIC).
    var sshPort: Int?
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

    var osXML: String {
        let type = "    <type arch='x86_64' machine='pc'>hvm</type>"
        switch firmware {
        case .direct:
            return """
                \(type)
                    <kernel>\(XMLText.escape(kernel))</kernel>
                    <initrd>\(XMLText.escape(initrd))</initrd>
                    <cmdline>\(XMLText.escape(cmdline))</cmdline>
                """
        case .bios:
            return "\(type)\n    <boot dev='hd'/>"
        case .uefi:
            return """
                \(type)
                    <loader readonly='yes' type='pflash'>\(Self.uefiCode)</loader>
                    <nvram template='\(Self.uefiVariablesTemplate)'/>
                    <boot dev='hd'/>
                """
        }
    }

    var seedXML: String {
        guard let seedPath else { return "" }
        return """

                <disk type='file' device='disk'>
                  <driver name='qemu' type='raw'/>
                  <source file='\(XMLText.escape(seedPath))'/>
                  <target dev='\(Self.seedDevice)' bus='virtio'/>
                  <readonly/>
                  <serial>cidata</serial>
                </disk>
            """
    }

    /// libvirt 9.0 has no user-mode NIC with port forwards but passt (which these machines lack), so the NIC is
    /// qemu's own, on qemu's command line.
    var networkXML: String {
        guard let sshPort else { return "" }
        return """

              <qemu:commandline>
                <qemu:arg value='-netdev'/>
                <qemu:arg value='user,id=snapnet0,hostfwd=tcp:127.0.0.1:\(sshPort)-:22'/>
                <qemu:arg value='-device'/>
                <qemu:arg value='virtio-net-pci,netdev=snapnet0,bus=pci.0,addr=\(Self.nicSlot)'/>
              </qemu:commandline>
            """
    }

    func render() -> String {
        let diskXML = disks.map(Self.diskXML).joined(separator: "\n")
        return """
            <domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
              <name>\(XMLText.escape(name))</name>
              <metadata>
                <snaplab:instance xmlns:snaplab='\(Self.metadataNamespace)' id='\(XMLText.escape(name))' lab='\(XMLText.escape(labStateDirectory))'/>
              </metadata>
              <memory unit='MiB'>\(memoryMiB)</memory>
              <vcpu>\(vcpus)</vcpu>
              <os>
            \(osXML)
              </os>
              <features><acpi/></features>
              <on_poweroff>destroy</on_poweroff>
              <on_reboot>restart</on_reboot>
              <on_crash>destroy</on_crash>
              <devices>
            \(diskXML)\(seedXML)
                <serial type='pty'>
                  <log file='\(XMLText.escape(consolePath))' append='on'/>
                  <target port='0'/>
                </serial>
                <console type='pty'>
                  <target type='serial' port='0'/>
                </console>
                <channel type='unix'>
                  <target type='virtio' name='org.qemu.guest_agent.0'/>
                </channel>
                <memballoon model='none'/>
              </devices>\(networkXML)
            </domain>
            """
    }
}
