import Foundation

enum Directories {
    /// Creates `url` (and parents) readable and traversable by others: the qemu processes libvirt starts run as
    /// another user and must reach disks, kernels and console logs inside.
    static func create(_ url: URL) throws(SnaplabError) {
        do {
            try FileManager.default.createDirectory(
                at: url, withIntermediateDirectories: true,
                attributes: [.posixPermissions: 0o755])
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        } catch {
            throw SnaplabError(
                .io, "cannot create directory \(url.path); check its parent's permissions and free space",
                cause: error)
        }
    }
}
