public import EnvMonDomain
import Foundation
import Logging
public import NIOCore
import PostgresNIO

/// The durable ingest queue in `envmon.ingest_job`: workers of any number of `envmon serve`
/// processes claim jobs with `FOR UPDATE SKIP LOCKED` and hold a lease that they extend while
/// loading. A job whose worker died is claimed again once its lease has expired; after
/// `max_attempts` claims it fails with the reason, and so does its upload.
///
/// ```swift
/// let queue = JobQueue(database: db, lease: .seconds(60))
/// if let job = try await queue.claim(worker: "host:1234:0") { … try await queue.complete(job) }
/// ```
public struct JobQueue: Sendable {
    public let database: Database
    /// How long a claim lasts without a heartbeat.
    public let lease: Duration

    public init(database: Database, lease: Duration = .seconds(60)) {
        self.database = database
        self.lease = lease
    }

    /// A job a worker holds.
    public struct ClaimedJob: Sendable, Equatable {
        public var id: Int64
        public var uploadID: Int64
        /// This claim's attempt number, 1-based; it fences the worker's later updates.
        public var attempt: Int
        public var maxAttempts: Int
        public var worker: String

        /// Whether a failure now would be the last allowed.
        public var isLastAttempt: Bool { attempt >= maxAttempts }
    }

    var leaseSeconds: Double {
        let parts = lease.components
        return Double(parts.seconds) + Double(parts.attoseconds) / 1e18
    }

    /// Claims the oldest claimable job: queued (and past any retry delay), or running with an
    /// expired lease. First fails the jobs whose worker died on their last attempt.
    public func claim(worker: String) async throws -> ClaimedJob? {
        try await failAbandoned()
        let rows = try await database.client.query("""
            UPDATE envmon.ingest_job
               SET status = 'running', attempts = attempts + 1, worker = \(worker), updated_at = now(),
                   lease_until = now() + make_interval(secs => \(leaseSeconds))
             WHERE id = (
                   SELECT id FROM envmon.ingest_job
                    WHERE ((status = 'queued' AND (lease_until IS NULL OR lease_until < now()))
                           OR (status = 'running' AND lease_until < now()))
                      AND attempts < max_attempts
                    ORDER BY id
                    FOR UPDATE SKIP LOCKED
                    LIMIT 1)
            RETURNING id, upload_id, attempts, max_attempts
            """, logger: database.logger)
        for try await (id, upload, attempts, maxAttempts) in rows.decode((Int64, Int64, Int, Int).self) {
            return ClaimedJob(id: id, uploadID: upload, attempt: attempts, maxAttempts: maxAttempts, worker: worker)
        }
        return nil
    }

    /// Claims the job of one upload, when it is claimable (queued and due, or running with an
    /// expired lease): the command that archived an upload loads it itself, and a command that
    /// meets an interrupted upload of the same bytes takes it over.
    public func claim(uploadID: Int64, worker: String) async throws -> ClaimedJob? {
        try await failAbandoned()
        let rows = try await database.client.query("""
            UPDATE envmon.ingest_job
               SET status = 'running', attempts = attempts + 1, worker = \(worker), updated_at = now(),
                   lease_until = now() + make_interval(secs => \(leaseSeconds))
             WHERE id = (
                   SELECT id FROM envmon.ingest_job
                    WHERE upload_id = \(uploadID)
                      AND ((status = 'queued' AND (lease_until IS NULL OR lease_until < now()))
                           OR (status = 'running' AND lease_until < now()))
                      AND attempts < max_attempts
                    FOR UPDATE SKIP LOCKED)
            RETURNING id, upload_id, attempts, max_attempts
            """, logger: database.logger)
        for try await (id, upload, attempts, maxAttempts) in rows.decode((Int64, Int64, Int, Int).self) {
            return ClaimedJob(id: id, uploadID: upload, attempt: attempts, maxAttempts: maxAttempts, worker: worker)
        }
        return nil
    }

    /// Where an upload's job stands, for people asking why an upload is not finished.
    public func job(uploadID: Int64) async throws -> JobState? {
        let rows = try await database.client.query("""
            SELECT status, attempts, max_attempts, worker, lease_until, lease_until < now(), last_error
              FROM envmon.ingest_job WHERE upload_id = \(uploadID)
            """, logger: database.logger)
        for try await (status, attempts, maxAttempts, worker, lease, expired, error) in rows.decode(
            (String, Int, Int, String?, Date?, Bool?, String?).self) {
            return JobState(status: status, attempts: attempts, maxAttempts: maxAttempts, worker: worker,
                            leaseUntil: lease, leaseExpired: expired ?? false, lastError: error)
        }
        return nil
    }

    /// Extends the lease; false when the job is no longer this worker's (it lost the lease).
    public func heartbeat(_ job: ClaimedJob) async throws -> Bool {
        var held = false
        for try await _ in try await database.client.query("""
            UPDATE envmon.ingest_job SET lease_until = now() + make_interval(secs => \(leaseSeconds)), updated_at = now()
             WHERE id = \(job.id) AND worker = \(job.worker) AND attempts = \(job.attempt) AND status = 'running'
            RETURNING id
            """, logger: database.logger).decode(Int64.self) { held = true }
        return held
    }

    /// Whether a session named `tag` (a load's `LoadSession`) is connected.
    public func sessionAlive(tag: String) async throws -> Bool {
        for try await alive in try await database.client.query(
            "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = \(tag))",
            logger: database.logger).decode(Bool.self) {
            return alive
        }
        return false
    }

    /// The job is finished (its upload has its outcome, loaded or failed).
    public func complete(_ job: ClaimedJob) async throws {
        try await database.client.query("""
            UPDATE envmon.ingest_job SET status = 'done', lease_until = NULL, last_error = NULL, updated_at = now()
             WHERE id = \(job.id) AND worker = \(job.worker) AND attempts = \(job.attempt)
            """, logger: database.logger)
    }

    /// The attempt failed for a reason outside the file (e.g. the database went away): the job
    /// is queued again after `delay`, or, on its last attempt, fails with its upload.
    public func retryOrFail(_ job: ClaimedJob, reason: String, delay: Duration = .seconds(5)) async throws {
        if job.isLastAttempt {
            try await fail(job, reason: "gave up after \(job.attempt) attempts: \(reason)")
            return
        }
        let seconds = Double(delay.components.seconds)
        try await database.client.query("""
            UPDATE envmon.ingest_job SET status = 'queued', worker = NULL, last_error = \(reason), updated_at = now(),
                   lease_until = now() + make_interval(secs => \(seconds))
             WHERE id = \(job.id) AND worker = \(job.worker) AND attempts = \(job.attempt)
            """, logger: database.logger)
        try await requeueUpload(job.uploadID)
    }

    /// The job failed for good: the job and its upload record the reason.
    public func fail(_ job: ClaimedJob, reason: String) async throws {
        try await database.client.withTransaction(logger: database.logger) { tx in
            try await tx.query("""
                UPDATE envmon.ingest_job SET status = 'failed', lease_until = NULL, last_error = \(reason), updated_at = now()
                 WHERE id = \(job.id)
                """, logger: database.logger)
            try await tx.query("""
                UPDATE envmon.upload SET status = 'failed', error = \(reason), finished_at = now()
                 WHERE id = \(job.uploadID) AND status IN ('received', 'queued', 'processing')
                """, logger: database.logger)
        }
    }

    /// Ends the lease of a running job held by `worker` at once (its holder is known to be gone,
    /// e.g. a command on this machine whose process has exited): the job can be claimed now
    /// instead of when its lease runs out. The attempt it spent still counts.
    public func expireLease(uploadID: Int64, heldBy worker: String) async throws {
        try await database.client.query("""
            UPDATE envmon.ingest_job SET lease_until = now() - interval '1 second', updated_at = now()
             WHERE upload_id = \(uploadID) AND worker = \(worker) AND status = 'running'
            """, logger: database.logger)
    }

    /// Gives the job back untouched (graceful shutdown before it was loaded): the attempt does
    /// not count and any worker may claim it at once.
    public func release(_ job: ClaimedJob) async throws {
        try await database.client.query("""
            UPDATE envmon.ingest_job SET status = 'queued', worker = NULL, lease_until = NULL,
                   attempts = greatest(attempts - 1, 0), updated_at = now()
             WHERE id = \(job.id) AND worker = \(job.worker) AND attempts = \(job.attempt) AND status = 'running'
            """, logger: database.logger)
        try await requeueUpload(job.uploadID)
    }

    /// Makes a failed upload loadable again, for a retry after a passing database error. Left
    /// failed when the same bytes have meanwhile been uploaded again as a new original.
    public func reopen(uploadID: Int64) async throws {
        do {
            try await database.client.query("""
                UPDATE envmon.upload SET status = 'queued', error = NULL, finished_at = NULL
                 WHERE id = \(uploadID) AND status = 'failed'
                """, logger: database.logger)
        } catch where DatabaseFailure.isUniqueViolation(error) {
            return
        }
    }

    /// The loader marks an upload `processing` before its transaction; a retried job shows as
    /// queued again.
    private func requeueUpload(_ uploadID: Int64) async throws {
        try await database.client.query(
            "UPDATE envmon.upload SET status = 'queued' WHERE id = \(uploadID) AND status = 'processing'",
            logger: database.logger)
    }

    /// Jobs whose worker died on their last attempt are failed (or, when that attempt did commit
    /// the load, completed), so that no job stays `running` for ever.
    func failAbandoned() async throws {
        try await database.client.query("""
            WITH dead AS (
                UPDATE envmon.ingest_job j
                   SET status = CASE WHEN u.status IN ('loaded', 'failed') THEN 'done' ELSE 'failed' END,
                       last_error = CASE WHEN u.status IN ('loaded', 'failed') THEN j.last_error
                                         ELSE 'gave up after ' || j.attempts || ' attempts: the worker stopped before finishing'
                                              || coalesce(' (last error: ' || j.last_error || ')', '') END,
                       lease_until = NULL, updated_at = now()
                  FROM envmon.upload u
                 WHERE u.id = j.upload_id AND j.status = 'running' AND j.lease_until < now()
                   AND j.attempts >= j.max_attempts
                RETURNING j.upload_id, j.status, j.last_error)
            UPDATE envmon.upload u SET status = 'failed', error = d.last_error, finished_at = now()
              FROM dead d
             WHERE u.id = d.upload_id AND d.status = 'failed' AND u.status IN ('received', 'queued', 'processing')
            """, logger: database.logger)
    }

    /// Queue depth and the age of the oldest waiting job, for `/metrics`.
    public func depth() async throws -> (waiting: Int, running: Int, oldestAgeSeconds: Double) {
        var result = (waiting: 0, running: 0, oldestAgeSeconds: 0.0)
        for try await (waiting, running, age) in try await database.client.query("""
            SELECT count(*) FILTER (WHERE status = 'queued')::integer,
                   count(*) FILTER (WHERE status = 'running')::integer,
                   coalesce(extract(epoch FROM now() - min(created_at))::double precision, 0)
              FROM envmon.ingest_job WHERE status IN ('queued', 'running')
            """, logger: database.logger).decode((Int, Int, Double).self) {
            result = (waiting, running, age)
        }
        return result
    }
}

/// What a queued job needs to parse an archived upload the way it was asked for.
public struct ArchivedUpload: Sendable, Equatable {
    public var id: Int64
    public var kind: FeedKind
    public var format: FeedFormat
    /// The declared or detected encoding recorded at upload time.
    public var encoding: String?
    public var fileName: String?
    public var status: UploadStatus
    /// `IngestRequest.storedOptions` as stored.
    public var options: [String: String]
    /// Bytes received.
    public var size: Int64 = 0
}

extension UploadArchive {
    /// The archived upload's record as a queued job reads it; nil when there is none.
    public func archived(id: Int64) async throws -> ArchivedUpload? {
        let rows = try await database.client.query("""
            SELECT kind, coalesce(format, 'auto'), encoding, file_name, status, options::text, size_bytes
              FROM envmon.upload WHERE id = \(id)
            """, logger: database.logger)
        for try await (kind, format, encoding, fileName, status, options, size) in rows.decode(
            (String, String, String?, String?, String, String, Int64).self) {
            guard let kind = FeedKind(rawValue: kind), let status = UploadStatus(rawValue: status) else { return nil }
            let decoded = (try? JSONSerialization.jsonObject(with: Data(options.utf8))) as? [String: Any] ?? [:]
            var stored: [String: String] = [:]
            for (key, value) in decoded { stored[key] = "\(value)" }
            return ArchivedUpload(id: id, kind: kind, format: FeedFormat(rawValue: format) ?? .auto, encoding: encoding,
                                  fileName: fileName, status: status, options: stored, size: size)
        }
        return nil
    }

    /// One stored chunk of an upload's bytes (`seq` from 0); nil past the last.
    public func chunk(uploadID: Int64, seq: Int32) async throws -> ByteBuffer? {
        let rows = try await database.client.query(
            "SELECT data FROM envmon.upload_chunk WHERE upload_id = \(uploadID) AND seq = \(seq)",
            logger: database.logger)
        for try await data in rows.decode(ByteBuffer.self) { return data }
        return nil
    }
}
