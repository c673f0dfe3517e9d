import CLibvirt
import Foundation

/// A libvirt storage volume handle (`virStorageVolPtr`).
///
/// `@unchecked Sendable`: libvirt's volume objects are reference-counted and safe to use from any thread.
public final class StorageVolume: @unchecked Sendable {
    let pointer: virStorageVolPtr
    public let connection: Connection

    init(_ pointer: virStorageVolPtr, connection: Connection) {
        self.pointer = pointer
        self.connection = connection
    }

    deinit {
        virStorageVolFree(pointer)
    }

    public var name: String {
        virStorageVolGetName(pointer).map { String(cString: $0) } ?? ""
    }

    /// The volume's path on its host.
    public func path() throws(LibvirtError) -> String {
        try takeString(virStorageVolGetPath(pointer), "virStorageVolGetPath(\(name))")
    }

    public func info() throws(LibvirtError) -> StorageVolumeInfo {
        var info = virStorageVolInfo()
        try check(virStorageVolGetInfo(pointer, &info), "virStorageVolGetInfo(\(name))")
        return StorageVolumeInfo(capacity: UInt64(info.capacity), allocation: UInt64(info.allocation))
    }

    public func xml() throws(LibvirtError) -> String {
        try takeString(virStorageVolGetXMLDesc(pointer, 0), "virStorageVolGetXMLDesc(\(name))")
    }

    public func delete() throws(LibvirtError) {
        try check(virStorageVolDelete(pointer, 0), "virStorageVolDelete(\(name))")
    }

    /// Grows the volume's virtual size.
    public func resize(capacity: UInt64) throws(LibvirtError) {
        try check(virStorageVolResize(pointer, capacity, 0), "virStorageVolResize(\(name))")
    }

    /// Copies the volume's bytes (for a qcow2 volume: the qcow2 file, bitmaps and all) into a new local file,
    /// streamed through libvirt (so it also works for a volume on a remote host).
    public func download(to file: URL, bufferSize: Int = 4 << 20) throws(LibvirtError) {
        let operation = "virStorageVolDownload(\(name))"
        guard FileManager.default.createFile(atPath: file.path, contents: nil),
            let handle = FileHandle(forWritingAtPath: file.path)
        else {
            throw LibvirtError(code: -1, domain: 0, message: "cannot create \(file.path)", operation: operation)
        }
        defer { try? handle.close() }
        let stream = try Stream(connection: connection)
        try check(virStorageVolDownload(pointer, stream.pointer, 0, 0, 0), operation)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: bufferSize, alignment: 4096)
        defer { buffer.deallocate() }
        do throws(LibvirtError) {
            while true {
                let count = try stream.receive(into: buffer)
                if count == 0 { break }
                do {
                    try handle.write(
                        contentsOf: Data(bytesNoCopy: buffer.baseAddress!, count: count, deallocator: .none))
                } catch {
                    throw LibvirtError(
                        code: -1, domain: 0, message: "writing \(file.path): \(error)", operation: operation)
                }
            }
            try stream.finish()
        } catch {
            stream.abort()
            throw error
        }
    }

    /// Replaces the volume's bytes with a local file's, streamed through libvirt (so it also works for a
    /// volume on a remote host). For a qcow2 volume, upload a qcow2 file.
    public func upload(contentsOf file: URL, bufferSize: Int = 4 << 20) throws(LibvirtError) {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw LibvirtError(
                code: -1, domain: 0, message: "cannot read \(file.path)",
                operation: "virStorageVolUpload(\(name))")
        }
        defer { try? handle.close() }
        let stream = try Stream(connection: connection)
        try check(virStorageVolUpload(pointer, stream.pointer, 0, 0, 0), "virStorageVolUpload(\(name))")
        do throws(LibvirtError) {
            while true {
                let data: Data
                do {
                    data = try handle.read(upToCount: bufferSize) ?? Data()
                } catch {
                    throw LibvirtError(
                        code: -1, domain: 0, message: "reading \(file.path): \(error)",
                        operation: "virStorageVolUpload(\(name))")
                }
                if data.isEmpty { break }
                try stream.sendAll(data)
            }
            try stream.finish()
        } catch {
            stream.abort()
            throw error
        }
    }
}

public struct StorageVolumeInfo: Sendable, Equatable {
    /// Virtual size in bytes.
    public let capacity: UInt64
    /// Bytes allocated on the host.
    public let allocation: UInt64
}
