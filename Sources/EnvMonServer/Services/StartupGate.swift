import NIOConcurrencyHelpers

/// Holds the long-running services back until the schema is ready: `beforeServerStarts`
/// migrates (or checks) the database, then opens the gate; workers, the inbox and the alert
/// loops wait at it, so none of them touches tables a migration is still creating.
final class StartupGate: Sendable {
    private enum State {
        case closed(next: Int, waiting: [Int: CheckedContinuation<Void, any Error>])
        case open
        case failed(any Error)
    }

    private let state = NIOLockedValueBox(State.closed(next: 0, waiting: [:]))

    /// Lets every waiter through.
    func open() { finish(nil) }

    /// Makes every waiter throw `error` (the migration failed: the services stop with it).
    func fail(_ error: any Error) { finish(error) }

    private func finish(_ error: (any Error)?) {
        let waiting: [CheckedContinuation<Void, any Error>] = state.withLockedValue { state in
            guard case .closed(_, let waiting) = state else { return [] }
            state = error.map(State.failed) ?? .open
            return Array(waiting.values)
        }
        for continuation in waiting {
            if let error { continuation.resume(throwing: error) } else { continuation.resume() }
        }
    }

    /// Returns once the gate opens; throws when it failed or the task is cancelled.
    func wait() async throws {
        let ticket = NIOLockedValueBox<Int?>(nil)
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let verdict: Result<Void, any Error>? = state.withLockedValue { state in
                    switch state {
                    case .open: return .success(())
                    case .failed(let error): return .failure(error)
                    case .closed(let next, var waiting):
                        if Task.isCancelled { return .failure(CancellationError()) }
                        waiting[next] = continuation
                        ticket.withLockedValue { $0 = next }
                        state = .closed(next: next + 1, waiting: waiting)
                        return nil
                    }
                }
                if let verdict { continuation.resume(with: verdict) }
            }
        } onCancel: {
            let continuation: CheckedContinuation<Void, any Error>? = state.withLockedValue { state in
                guard case .closed(let next, var waiting) = state, let id = ticket.withLockedValue({ $0 }),
                      let continuation = waiting.removeValue(forKey: id) else { return nil }
                state = .closed(next: next, waiting: waiting)
                return continuation
            }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
