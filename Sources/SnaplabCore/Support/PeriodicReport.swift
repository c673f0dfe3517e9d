/// Runs `body` while `report` runs every `interval` beside it, and once more when `body` ends (so the last
/// figure is recorded); the reporting stops with the body.
func withReporting<T: Sendable>(
    every interval: Duration, report: @escaping @Sendable () async -> Void,
    body: () async throws(SnaplabError) -> T
) async throws(SnaplabError) -> T {
    let result: Result<T, SnaplabError>
    do {
        // Leaving this scope cancels the loop and waits for it.
        async let _: Void = reportUntilCancelled(every: interval, report)
        do throws(SnaplabError) { result = .success(try await body()) } catch { result = .failure(error) }
    }
    await report()
    return try result.get()
}

private func reportUntilCancelled(every interval: Duration, _ report: @Sendable () async -> Void) async {
    while !Task.isCancelled {
        try? await Task.sleep(for: interval)
        if Task.isCancelled { return }
        await report()
    }
}
