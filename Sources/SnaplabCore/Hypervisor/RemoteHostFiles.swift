import Foundation

/// The files a domain reads besides its disks — kernel, initramfs, cloud-init seed — and where its console is
/// logged, as paths on the host that runs it. On this machine they are the controller's own files. A host on
/// another machine cannot see those: the kernel and initramfs are uploaded once into its pool as raw volumes
/// named by content, the seed as a volume of the instance, and the console is logged in the host's libvirt log
/// directory (read through libvirt's console stream and the guest agent, not from the controller's disk).
struct RemoteHostFiles {
    var kernel: String
    var initrd: String
    var seed: String?
    var console: String

    static func seedVolume(of instanceId: String) -> String { "seed-\(instanceId).img" }

    static func place(
        boot: BootSettings, seed: URL?, instanceId: String, consolePath: String, on host: Host,
        hypervisor: Hypervisor
    ) async throws(SnaplabError) -> RemoteHostFiles {
        guard !host.isOnThisMachine else {
            return RemoteHostFiles(kernel: boot.kernel, initrd: boot.initrd, seed: seed?.path, console: consolePath)
        }
        var files = RemoteHostFiles(
            kernel: boot.kernel, initrd: boot.initrd, seed: nil,
            console: "/var/log/libvirt/qemu/\(instanceId)-console.log")
        if boot.isDirect {
            // Boot artifacts are named by their digest: the same name on the host is the same file.
            let kernel = URL(fileURLWithPath: boot.kernel)
            let initrd = URL(fileURLWithPath: boot.initrd)
            files.kernel = try await hypervisor.uploadFileOnce(
                pool: host.poolName, name: "boot-\(kernel.lastPathComponent)", from: kernel)
            files.initrd = try await hypervisor.uploadFileOnce(
                pool: host.poolName, name: "boot-\(initrd.lastPathComponent)", from: initrd)
        }
        if let seed {
            files.seed = try await hypervisor.uploadFileOnce(
                pool: host.poolName, name: seedVolume(of: instanceId), from: seed)
        }
        return files
    }
}
