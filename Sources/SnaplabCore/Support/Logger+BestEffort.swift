import Logging

extension Logger {
    /// A step whose failure must not stop the caller (an undo, a clean-up after an error): a failure is logged
    /// as a warning naming the step, never dropped silently. What is already gone is no failure for a clean-up.
    func bestEffort(_ step: @autoclosure () -> String, _ body: () async throws -> Void) async {
        do {
            try await body()
        } catch {
            report(step(), error)
        }
    }

    /// The same for a synchronous step.
    func bestEffort(_ step: @autoclosure () -> String, _ body: () throws -> Void) {
        do {
            try body()
        } catch {
            report(step(), error)
        }
    }

    private func report(_ step: String, _ error: any Error) {
        if (error as? SnaplabError)?.code == .notFound {
            debug("\(step): already gone (\(Self.describe(error)))")
        } else {
            warning("\(step) failed: \(Self.describe(error))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        (error as? SnaplabError)?.message ?? "\(error)"
    }
}
