import Foundation

/// Reads the virtual size from a qcow2 file's header (big-endian u64 at offset 24, after the 'QFI\xfb' magic).
enum QcowHeader {
    static func virtualSize(of file: URL) throws(SnaplabError) -> UInt64 {
        guard let handle = FileHandle(forReadingAtPath: file.path) else {
            throw SnaplabError(.io, "cannot read \(file.path)")
        }
        defer { try? handle.close() }
        guard let header = try? handle.read(upToCount: 32), header.count == 32,
            header.prefix(4) == Data([0x51, 0x46, 0x49, 0xFB])
        else {
            throw SnaplabError(.invalidArgument, "\(file.path) is not a qcow2 image")
        }
        return header[24..<32].reduce(UInt64(0)) { ($0 << 8) | UInt64($1) }
    }
}
