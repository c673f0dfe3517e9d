import Foundation

/// A one-line progress bar on stderr (only when stderr is a terminal; otherwise a line per 10 %).
final class ProgressBar: @unchecked Sendable {
    // @unchecked: updates come from one task at a time; the lock keeps the printed state consistent anyway.
    private let lock = NSLock()
    private let label: String
    private let interactive = isatty(STDERR_FILENO) == 1
    private var lastShown = -1

    init(_ label: String) {
        self.label = label
    }

    func update(_ percent: Double) {
        lock.withLock {
            let value = max(0, min(100, Int(percent)))
            if interactive {
                guard value != lastShown else { return }
                let filled = value * 30 / 100
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: 30 - filled)
                FileHandle.standardError.write(Data("\r\(label) [\(bar)] \(value)%".utf8))
            } else if value / 10 != lastShown / 10 {
                FileHandle.standardError.write(Data("\(label) \(value)%\n".utf8))
            }
            lastShown = value
        }
    }

    func finish() {
        lock.withLock {
            if interactive && lastShown >= 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        }
    }
}
