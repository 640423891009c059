import EnvMonDomain
public import EnvMonStore
import Foundation
import Logging
public import ServiceLifecycle

/// N ingest workers sharing the durable queue with every other `envmon serve` on the database.
///
/// Each worker claims a job, keeps its lease alive while FactLoader loads the upload in one
/// transaction, and completes it. On graceful shutdown a worker takes no new job and finishes
/// the one it holds within `shutdownDeadline`, else cancels it and gives the job back; when cancelled, it gives its job back (or, if it cannot, the lease expires
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
    let gate: StartupGate?
    /// How long a load may go on after graceful shutdown began.
    let shutdownDeadline: Duration

    init(queue: JobQueue, count: Int, name: String = IngestWorkers.defaultName,
         pollInterval: Duration = .milliseconds(250), metrics: ServiceMetrics, logger: Logger, gate: StartupGate? = nil,
         shutdownDeadline: Duration = .seconds(30)) {
        self.shutdownDeadline = shutdownDeadline
        self.queue = queue
        self.count = count
        self.name = name
        self.pollInterval = pollInterval
        self.metrics = metrics
        self.logger = logger
        self.gate = gate
    }

    /// `hostname:pid`, unique among the processes sharing a database.
    public static var defaultName: String {
        "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    public func run() async throws {
        if let gate { try await cancelWhenGracefulShutdown { try await gate.wait() } }
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
                // Bounded, and cut short by shutdown: a claim whose connection the server closed
                // as it was sent can wait for ever (seen under load with PostgresNIO 1.33), and
                // would hold the worker — and the shutdown — with it.
                let queue = self.queue
                job = try await cancelWhenGracefulShutdown {
                    try await abandoning(after: Self.claimLimit, timeout: { RoundAbandoned(what: "claiming a job") }) {
                        try await queue.claim(worker: worker)
                    }
                }
            } catch {
                logger.debug("cannot claim a job", metadata: ["envmon.error": "\(Database.describe(error))"])
                job = nil
            }
            guard let job else {
                // Idle: sleep, but wake at once for shutdown.
                try? await cancelWhenGracefulShutdown { try await Task.sleep(for: pollInterval) }
                continue
            }
            await processUntilDeadline(job, logger: logger)
        }
    }

    /// How long claiming a job may take before it is left behind.
    static let claimLimit: Duration = .seconds(60)

    /// Loads `job`; once graceful shutdown has begun, for at most `shutdownDeadline`. Then the
    /// load is cancelled here, while the pool and its connections are still up (PostgreSQL gets
    /// a CopyFail / cancel and rolls back), and the job is given back. Cancelling the load by
    /// closing the pool under it instead crashes PostgresNIO's state machine mid-COPY.
    private func processUntilDeadline(_ job: JobQueue.ClaimedJob, logger: Logger) async {
        let deadline = shutdownDeadline
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await process(job, logger: logger) }
            group.addTask {
                do {
                    try await gracefulShutdown()
                    try await Task.sleep(for: deadline)
                    logger.notice("shutdown deadline reached: cancelling the load and giving the job back",
                                  metadata: ["envmon.job.id": "\(job.id)"])
                } catch {
                    // Cancelled: the load finished first.
                }
            }
            await group.next()
            group.cancelAll()
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
        let result = await JobRunner(queue: queue, logger: logger).run(job, retryDelay: .seconds(job.attempt)) {
            try await service.loadQueued(uploadID: job.uploadID)
        }
        switch result {
        case .finished(let outcome):
            metrics.loaded(outcome, duration: ContinuousClock.now - started)
            metrics.upload(status: outcome.status.rawValue, source: "queue")
            logger.info("job done", metadata: [
                "envmon.upload.status": "\(outcome.status.rawValue)", "envmon.upload.rows_loaded": "\(outcome.rowsLoaded)",
                "envmon.upload.rows_rejected": "\(outcome.rowsRejected)",
            ])
        case .willRetry:
            metrics.jobError(final: false)
        case .gaveUp:
            metrics.jobError(final: true)
        case .released:
            break
        }
    }
}
