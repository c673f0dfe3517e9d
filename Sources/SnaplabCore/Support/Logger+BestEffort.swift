import Logging

extension Logger {
    /// A step whose failure must not stop the caller (an undo, a clean-up after an error): a failure is logged
    /// as a warning naming the step, never dropped silently.
    func bestEffort(_ step: @autoclosure () -> String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            warning("\(step()) failed: \(Self.describe(error))")
        }
    }

    /// The same for a synchronous step.
    func bestEffort(_ step: @autoclosure () -> String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            warning("\(step()) failed: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        (error as? SnaplabError)?.message ?? "\(error)"
    }
}
