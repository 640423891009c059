import EnvMonDomain
import EnvMonStore
import Foundation
import Logging
import Synchronization

/// Runs one claimed ingest job for a worker of `envmon serve` or for the command that sent the
/// file: keeps the job's lease alive while the upload loads, then records what became of it.
///
/// - an outcome (loaded, or failed for a reason in the file): the job is done;
/// - a transient failure (the database went away, a deadlock, a timeout): the job is queued
///   again after `retryDelay`, or fails with its upload on its last attempt — the upload itself
///   was never marked failed, so nothing needs reopening;
/// - cancellation (a hard stop): the job is given back, or its lease expires and another worker
///   takes it; the load is one transaction, so it commits exactly once.
struct JobRunner: Sendable {
    let queue: JobQueue
    let logger: Logger

    enum Result: Sendable {
        case finished(LoadOutcome)
        /// Queued again; another attempt follows.
        case willRetry(reason: String)
        /// The last attempt failed too: the job and its upload failed with `reason`.
        case gaveUp(reason: String)
        /// Cancelled and handed back (or left to its lease).
        case released
    }

    func run(_ job: JobQueue.ClaimedJob, retryDelay: Duration,
             load: @escaping @Sendable () async throws -> LoadOutcome) async -> Result {
        var logger = self.logger
        logger[metadataKey: "envmon.job.id"] = "\(job.id)"
        logger[metadataKey: "envmon.upload.id"] = "\(job.uploadID)"
        do {
            let outcome = try await withHeartbeat(job, logger: logger, load)
            try await queue.complete(job)
            return .finished(outcome)
        } catch where Database.unwrap(error) is CancellationError || Task.isCancelled {
            // Hard stop (whatever the load threw once cancelled: a CopyFail, a closed
            // connection): give the job back from a task that is not cancelled, within a bound —
            // a load left behind may still hold the upload's locks. If that fails too, the lease
            // expires and another worker takes it.
            let queue = self.queue
            let released = await Task.detached {
                (try? await abandoning(after: Self.releaseLimit, timeout: { CancellationError() }) {
                    try await queue.release(job)
                }) != nil
            }.value
            logger.info(released ? "job released" : "job not released; its lease expires and another worker takes it")
            return .released
        } catch {
            let (transient, reason, detail) = Self.describe(error)
            logger.info("job attempt failed", metadata: ["envmon.error": "\(detail)", "envmon.job.attempt": "\(job.attempt)"])
            do {
                if transient && !job.isLastAttempt {
                    try await queue.retryOrFail(job, reason: reason, delay: retryDelay)
                    return .willRetry(reason: reason)
                }
                try await queue.fail(job, reason: transient ? "gave up after \(job.attempt) attempts: \(reason)" : reason)
            } catch {
                // The database is away: the lease expires and the job is claimed again.
                logger.warning("cannot record the job's failure", metadata: ["envmon.error": "\(Database.describe(error))"])
            }
            return .gaveUp(reason: reason)
        }
    }

    /// Whether a failure is worth another attempt, what to tell the uploader, and the detail
    /// for the log.
    static func describe(_ error: any Error) -> (transient: Bool, reason: String, detail: String) {
        if error is LoadSessionLost { return (true, "the database connection was lost while loading", "\(error)") }
        if let failure = error as? LoadFailure { return (failure.isTransient, failure.message, failure.detail) }
        switch DatabaseFailure.of(error) {
        case .transient?, .unavailable?:
            return (true, "the database was unavailable while loading", Database.describe(error))
        case .permanent?, .missingRelation?:
            return (false, "the database refused this upload (the server log has the details)", Database.describe(error))
        case nil:
            return (false, "\(error)", "\(error)")
        }
    }

    /// Runs `body` while the job's lease is extended every third of it, and watches the load's
    /// database session: should the server end it mid-load (a restart, a terminated backend),
    /// the load is abandoned with `LoadSessionLost` — a transient failure, tried again —
    /// instead of waiting forever on PostgresNIO's lost `COPY` continuation (`LoadSession`).
    ///
    /// The load runs in its own task so that a stuck one can be left behind; cancelling this
    /// call cancels the load and waits for it (or for the watchdog), never for a dead session.
    private func withHeartbeat<T: Sendable>(
        _ job: JobQueue.ClaimedJob, logger: Logger, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let queue = self.queue
        let interval = queue.lease / 3
        let session = LoadSession(tag: "envmon job \(job.id) attempt \(job.attempt)")
        let load = Task { try await LoadSession.$current.withValue(session) { try await body() } }
        let watchdog = Task {
            var absent = 0
            while true {
                try await Task.sleep(for: interval)
                // A failed heartbeat is not fatal: the next one may succeed before expiry.
                if (try? await queue.heartbeat(job)) == false { logger.info("job lease lost") }
                guard session.started, let alive = try? await queue.sessionAlive(tag: session.tag) else { continue }
                absent = alive ? 0 : absent + 1
                // Twice, so that a load that has just committed is not taken for a lost one.
                if absent >= 2 { return }
            }
        }
        let first = FirstResult<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                first.start(continuation)
                Task {
                    let result = await load.result
                    watchdog.cancel()
                    first.resume(with: result)
                }
                Task {
                    guard (try? await watchdog.value) != nil else { return }
                    logger.warning("the load's database session is gone; abandoning the load",
                                   metadata: ["envmon.job.session": "\(session.tag)"])
                    load.cancel()
                    first.resume(with: .failure(LoadSessionLost()))
                }
            }
        } onCancel: {
            load.cancel()
            // A load that does not answer its cancellation — a PostgresNIO call whose connection
            // the pool closed under it never returns, and with the pool gone the watchdog cannot
            // ask about the session — is left behind after `abandonLimit`, so that a worker, and
            // with it `envmon serve`, always stops. Its transaction never commits: the server
            // rolls it back when the connection closes.
            Task {
                try? await Task.sleep(for: Self.abandonLimit)
                first.resume(with: .failure(CancellationError()))
            }
        }
    }

    /// How long a cancelled load may take to end before it is left behind.
    static let abandonLimit: Duration = .seconds(10)
    /// How long giving a cancelled job back may take.
    static let releaseLimit: Duration = .seconds(10)
}

/// The database ended the session of a load in progress.
struct LoadSessionLost: Error, CustomStringConvertible {
    var description: String { "the database connection of the load was lost" }
}

/// Resumes a continuation with whichever result comes first; later ones are dropped. For
/// racing work that may never end (a PostgresNIO call whose session died) against a watchdog.
public final class FirstResult<T: Sendable>: Sendable {
    private let state = Mutex<(continuation: CheckedContinuation<T, any Error>?, early: Result<T, any Error>?, done: Bool)>(
        (nil, nil, false))

    public init() {}

    /// The continuation to resume; a result that arrived before it is delivered at once.
    public func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let early = state.early {
                state.done = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    /// Delivers `result` unless one was delivered already.
    public func resume(with result: Result<T, any Error>) {
        let continuation: CheckedContinuation<T, any Error>? = state.withLock { state in
            guard !state.done else { return nil }
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = result }
                return nil
            }
            state.done = true
            state.continuation = nil
            return continuation
        }
        continuation?.resume(with: result)
    }
}

/// Runs `body` in a task of its own, raced against `limit`: past it the task is cancelled and
/// left behind, and `timeout()` is thrown. For calls that may never return (a PostgresNIO call
/// whose session the server ended), where a task group would wait for the stuck child.
///
/// Cancelling the caller cancels `body`; should `body` not end within `cancellationLimit` of
/// that, it is left behind too and `CancellationError` is thrown.
public func abandoning<T: Sendable>(
    after limit: Duration, cancellationLimit: Duration = .seconds(10),
    timeout: @escaping @Sendable () -> any Error, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let work = Task { try await body() }
    let first = FirstResult<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            first.start(continuation)
            let timer = Task {
                guard (try? await Task.sleep(for: limit)) != nil else { return }  // cancelled: done in time
                work.cancel()
                first.resume(with: .failure(timeout()))
            }
            Task {
                let result = await work.result
                timer.cancel()
                first.resume(with: result)
            }
        }
    } onCancel: {
        work.cancel()
        Task {
            try? await Task.sleep(for: cancellationLimit)
            first.resume(with: .failure(CancellationError()))
        }
    }
}

