import Foundation
import NBD

/// Writes the benchmark's bytes: a whole volume through qemu-nbd, and changes both into the volume and into its
/// raw image (the peers' source), so every tool sees the same change.
enum BenchVolumeWriter {
    static func write(_ content: MixedVolumeContent, to path: String) async throws(SnaplabError) {
        let connection = try await VolumeExport.openWritable(file: path)
        try await blockingCopy("writing the benchmark volume") { _ in
            let buffer = UnsafeMutableRawBufferPointer.allocate(
                byteCount: MixedVolumeContent.extentSize, alignment: 4096)
            defer { buffer.deallocate() }
            for (number, extent) in content.extents.enumerated() {
                content.fill(number, into: buffer)
                try connection.write(UnsafeRawBufferPointer(buffer), at: content.offset(of: extent))
            }
            try connection.flush()
        }
    }

    static func apply(_ change: BenchChange, to path: String, raw: String) async throws(SnaplabError) {
        let connection = try await VolumeExport.openWritable(file: path)
        try await blockingCopy("changing the benchmark volume") { _ in
            let descriptor = open(raw, O_WRONLY | O_CLOEXEC)
            guard descriptor >= 0 else {
                throw SnaplabError(.io, "cannot open \(raw): \(String(cString: strerror(errno)))")
            }
            defer { close(descriptor) }
            let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 4096)
            defer { buffer.deallocate() }
            for (number, write) in change.writes.enumerated() {
                let bytes = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<write.length])
                change.fill(number, into: bytes)
                try connection.write(UnsafeRawBufferPointer(bytes), at: write.offset)
                guard pwrite(descriptor, bytes.baseAddress, bytes.count, off_t(write.offset)) == bytes.count else {
                    throw SnaplabError(.io, "cannot write \(raw): \(String(cString: strerror(errno)))")
                }
            }
            try connection.flush()
            fsync(descriptor)
        }
    }
}
