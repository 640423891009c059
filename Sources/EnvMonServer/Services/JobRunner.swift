import EnvMonDomain
import EnvMonStore
import Foundation
import Logging

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
        } catch where Database.unwrap(error) is CancellationError {
            // Hard stop: give the job back from a task that is not cancelled; if that fails
            // too, the lease expires and another worker takes it.
            let queue = self.queue
            await Task.detached { try? await queue.release(job) }.value
            logger.info("job released")
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

    /// Runs `body` while a child task extends the job's lease every third of it.
    private func withHeartbeat<T: Sendable>(
        _ job: JobQueue.ClaimedJob, logger: Logger, _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        let queue = self.queue
        let interval = queue.lease / 3
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                while true {
                    try await Task.sleep(for: interval)
                    // A failed heartbeat is not fatal: the next one may succeed before expiry.
                    if (try? await queue.heartbeat(job)) == false {
                        logger.info("job lease lost")
                    }
                }
            }
            group.addTask { try await body() }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let result { return result }
            }
            throw CancellationError()
        }
    }
}
