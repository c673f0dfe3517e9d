/// Where a pull-mode backup job serves its NBD export.
enum BackupEndpoint: Sendable {
    /// A Unix socket on this machine (a host whose libvirt runs here).
    case unix(String)
    /// TCP on the address the host's libvirt is reached at (a host on another machine).
    case tcp(host: String, port: Int)
}

/// A pull-mode `<domainbackup>`: qemu serves the chosen disks, as they are at this instant, over NBD on a Unix
/// socket or TCP; each disk is either full or incremental from its own checkpoint.
struct BackupXML {
    struct Disk {
        var device: String
        /// Where qemu keeps the old contents of blocks written during the job, on the domain's host. (libvirt
        /// 9.0 cannot pick one itself: "argument key 'filename' must not have null value".)
        var scratchPath: String
        /// Export only what changed since this checkpoint (nil: the whole disk).
        var incrementalFrom: String?
    }

    var endpoint: BackupEndpoint
    var disks: [Disk]
    /// Every disk target of the domain; the ones not in `disks` are left out of the job.
    var allDevices: [String]

    func render() -> String {
        let chosen = Set(disks.map(\.device))
        var lines = [
            "<domainbackup mode='pull'>",
            serverElement,
            "  <disks>",
        ]
        for device in allDevices where !chosen.contains(device) {
            lines.append("    <disk name='\(XMLText.escape(device))' backup='no'/>")
        }
        for disk in disks {
            let mode =
                disk.incrementalFrom.map {
                    " backupmode='incremental' incremental='\(XMLText.escape($0))'"
                } ?? " backupmode='full'"
            lines.append("    <disk name='\(XMLText.escape(disk.device))' backup='yes' type='file'\(mode)>")
            lines.append("      <scratch file='\(XMLText.escape(disk.scratchPath))'/>")
            lines.append("    </disk>")
        }
        lines += ["  </disks>", "</domainbackup>"]
        return lines.joined(separator: "\n")
    }

    private var serverElement: String {
        switch endpoint {
        case .unix(let path):
            "  <server transport='unix' socket='\(XMLText.escape(path))'/>"
        case .tcp(let host, let port):
            "  <server transport='tcp' name='\(XMLText.escape(host))' port='\(port)'/>"
        }
    }
}

/// A `<domaincheckpoint>` covering some disks with a bitmap of its own name; with `creationTime` it is a
/// redefinition of a checkpoint whose bitmaps already exist in the disks.
struct CheckpointXML {
    var name: String
    var devices: [String]
    var allDevices: [String]
    var creationTime: Int?

    func render() -> String {
        let covered = Set(devices)
        var lines = ["<domaincheckpoint>", "  <name>\(XMLText.escape(name))</name>"]
        if let creationTime { lines.append("  <creationTime>\(creationTime)</creationTime>") }
        lines.append("  <disks>")
        for device in allDevices {
            if covered.contains(device) {
                let bitmap = creationTime == nil ? "" : " bitmap='\(XMLText.escape(name))'"
                lines.append("    <disk name='\(XMLText.escape(device))' checkpoint='bitmap'\(bitmap)/>")
            } else {
                lines.append("    <disk name='\(XMLText.escape(device))' checkpoint='no'/>")
            }
        }
        lines += ["  </disks>", "</domaincheckpoint>"]
        return lines.joined(separator: "\n")
    }
}
