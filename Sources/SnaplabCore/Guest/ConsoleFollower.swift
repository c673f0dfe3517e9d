import Blocking
import Foundation
import Synchronization

/// Follows a console log as the guest writes it: each look reads only the bytes appended since the previous
/// one (on the blocking pool) and returns the boot markers on the lines completed meanwhile.
final class ConsoleFollower: Sendable {
    private struct Position {
        var offset: UInt64
        /// The start of a line the guest has not finished yet.
        var partialLine: [UInt8] = []
    }

    let path: String
    private let position: Mutex<Position>

    init(path: String, from offset: UInt64) {
        self.path = path
        position = Mutex(Position(offset: offset))
    }

    /// The markers on the lines completed since the last call.
    func newMarkers() async -> [BootMarker] {
        await BlockingPool.run { self.readNewLines().compactMap(BootMarker.init(line:)) }
    }

    /// Waits, looking every `interval`, until a marker of that phase appears.
    func waitForMarker(_ phase: String, every interval: Duration = .milliseconds(100)) async throws {
        while await !newMarkers().contains(where: { $0.phase == phase }) {
            try await Task.sleep(for: interval)
        }
    }

    private func readNewLines() -> [Substring] {
        position.withLock { position in
            let descriptor = open(path, O_RDONLY | O_CLOEXEC)
            guard descriptor >= 0 else { return [] }
            defer { close(descriptor) }
            var appended: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 64 << 10)
            while true {
                let count = buffer.withUnsafeMutableBytes {
                    pread(descriptor, $0.baseAddress, $0.count, off_t(position.offset))
                }
                guard count > 0 else { break }
                appended += buffer[..<count]
                position.offset += UInt64(count)
            }
            guard let lastNewline = appended.lastIndex(of: UInt8(ascii: "\n")) else {
                position.partialLine += appended
                return []
            }
            let complete = position.partialLine + appended[...lastNewline]
            position.partialLine = Array(appended[(lastNewline + 1)...])
            return String(decoding: complete, as: UTF8.self).split(whereSeparator: \.isNewline)
        }
    }
}
