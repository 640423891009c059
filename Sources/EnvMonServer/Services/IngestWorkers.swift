public import EnvMonStore
import Foundation
public import Logging
public import ServiceLifecycle

/// N ingest workers sharing the durable queue with every other `envmon serve` on the database.
///
/// Each worker claims a job, keeps its lease alive while FactLoader loads the upload in one
/// transaction, and completes it. On graceful shutdown a worker takes no new job and finishes
/// the one it holds; when cancelled, it gives its job back (or, if it cannot, the lease expires
/// and another worker loads the upload — exactly once, since the load is one transaction and a
/// retry skips an upload that already has its outcome).
public struct IngestWorkers: Service {
    public let queue: JobQueue
    public let count: Int
    /// Prefix of worker names, e.g. `host:pid`; worker i is `prefix:i`.
    public let name: String
    /// How long an idle worker waits before looking at the queue again.
    public let pollInterval: Duration
    let metrics: ServiceMetrics
    let logger: Logger

    public init(queue: JobQueue, count: Int, name: String = IngestWorkers.defaultName,
                pollInterval: Duration = .milliseconds(250), metrics: ServiceMetrics, logger: Logger) {
        self.queue = queue
        self.count = count
        self.name = name
        self.pollInterval = pollInterval
        self.metrics = metrics
        self.logger = logger
    }

    /// `hostname:pid`, unique among the processes sharing a database.
    public static var defaultName: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            for index in 0..<count {
                group.addTask { await work(as: "\(name):\(index)") }
            }
        }
    }

    private func work(as worker: String) async {
        var logger = self.logger
        logger[metadataKey: "envmon.worker"] = "\(worker)"
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let job: JobQueue.ClaimedJob?
            do {
                job = try await queue.claim(worker: worker)
            } catch {
                logger.debug("cannot claim a job", metadata: ["envmon.error": "\(Database.describe(error))"])
                job = nil
            }
            guard let job else {
                // Idle: sleep, but wake at once for shutdown.
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
                continue
            }
            await process(job, logger: logger)
        }
    }

    /// Loads one claimed job. Not cancelled by graceful shutdown: the job is finished.
    func process(_ job: JobQueue.ClaimedJob, logger: Logger) async {
        var logger = logger
        logger[metadataKey: "envmon.job.id"] = "\(job.id)"
        logger[metadataKey: "envmon.upload.id"] = "\(job.uploadID)"
        logger.info("job claimed", metadata: ["envmon.job.attempt": "\(job.attempt)"])
        let service = IngestService(database: queue.database)
        let started = ContinuousClock.now
        do {
            let outcome = try await withHeartbeat(job, logger: logger) {
                try await service.loadQueued(uploadID: job.uploadID)
            }
            // FactLoader records a database error as the upload's failure. For a queued job it is
            // usually passing (a deadlock, a lost connection, two loads creating one partition):
            // the upload is reopened and the job tried again, until its last attempt.
            if outcome.status == .failed, let reason = outcome.error, reason.hasPrefix(Self.databaseErrorPrefix),
               !job.isLastAttempt {
                try await queue.reopen(uploadID: job.uploadID)
                throw TransientLoadFailure(reason: reason)
            }
            try await queue.complete(job)
            metrics.loaded(outcome, duration: ContinuousClock.now - started)
            metrics.upload(status: outcome.status.rawValue, source: "queue")
            logger.info("job done", metadata: [
                "envmon.upload.status": "\(outcome.status.rawValue)", "envmon.upload.rows_loaded": "\(outcome.rowsLoaded)",
                "envmon.upload.rows_rejected": "\(outcome.rowsRejected)",
            ])
        } catch is CancellationError {
            // Hard stop: give the job back from a task that is not cancelled; if that fails
            // too, the lease expires and another worker takes it.
            let queue = self.queue
            await Task.detached { try? await queue.release(job) }.value
            logger.info("job released")
        } catch {
            let reason = Database.describe(error)
            metrics.jobError(final: job.isLastAttempt)
            logger.info("job attempt failed", metadata: ["envmon.error": "\(reason)"])
            try? await queue.retryOrFail(job, reason: reason, delay: .seconds(job.attempt))
        }
    }

    /// How FactLoader words a failure that came from the database rather than the file.
    static let databaseErrorPrefix = "database error while loading"

    struct TransientLoadFailure: Error, CustomStringConvertible {
        let reason: String
        var description: String { reason }
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
