public import EnvMonDomain
public import Foundation
import Logging
import PostgresNIO

/// The notification outbox: claims due notifications, records delivery, schedules retries with
/// exponential backoff. A notification is never deleted: failures stay visible.
public struct OutboxStore: Sendable {
    /// After this many failed attempts a notification is marked failed (still visible).
    public static let maxAttempts = 12
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Seconds to wait after the n-th failure: 30 s, 1 min, 2 min … capped at 1 h.
    public static func backoff(afterAttempt attempt: Int) -> TimeInterval {
        min(3600, 30 * pow(2, Double(max(0, attempt - 1))))
    }

    /// Claims up to `limit` pending notifications due at `now` (with `ignoreGroupWait`, also
    /// those still inside their group wait), pushing their next attempt out by `lease` so another
    /// notifier does not take them meanwhile.
    public func claimDue(now: Date, ignoreGroupWait: Bool, limit: Int = 50, lease: TimeInterval = 120) async throws -> [OutboxEntry] {
        let leaseUntil = now.addingTimeInterval(lease)
        let rows = try await database.client.query("""
            UPDATE envmon.notification_outbox o SET next_attempt_at = \(leaseUntil)
            WHERE o.id IN (
                SELECT id FROM envmon.notification_outbox
                WHERE status = 'pending' AND next_attempt_at <= \(now) AND (\(ignoreGroupWait) OR not_before <= \(now))
                ORDER BY id LIMIT \(limit) FOR UPDATE SKIP LOCKED)
            RETURNING o.id, o.receiver, o.channel::text, o.payload::text, o.alert_ids, o.not_before, o.attempts, o.last_error
            """, logger: database.logger)
        var result: [OutboxEntry] = []
        for try await (id, receiver, channel, payload, ids, notBefore, attempts, error) in rows.decode(
            (Int64, String, String, String, [Int64], Date, Int, String?).self) {
            result.append(OutboxEntry(id: id, receiver: receiver, channel: Data(channel.utf8), payload: Data(payload.utf8),
                                      alertIDs: ids, notBefore: notBefore, attempts: attempts, lastError: error))
        }
        return result.sorted { ($0.id ?? 0) < ($1.id ?? 0) }
    }

    public func markDelivered(id: Int64, at now: Date) async throws {
        try await database.client.query("""
            UPDATE envmon.notification_outbox SET status = 'delivered', delivered_at = \(now), attempts = attempts + 1
            WHERE id = \(id)
            """, logger: database.logger)
    }

    /// Records a failed attempt: retried later with backoff when `retryable` and attempts
    /// remain, else marked failed.
    public func markFailed(id: Int64, error: String, retryable: Bool, at now: Date) async throws {
        try await database.client.withTransaction(logger: database.logger) { tx in
            var attempts = 0
            for try await value in try await tx.query(
                "UPDATE envmon.notification_outbox SET attempts = attempts + 1, last_error = \(error) WHERE id = \(id) RETURNING attempts",
                logger: database.logger).decode(Int.self) { attempts = value }
            if retryable && attempts < Self.maxAttempts {
                let next = now.addingTimeInterval(Self.backoff(afterAttempt: attempts))
                try await tx.query("UPDATE envmon.notification_outbox SET next_attempt_at = \(next) WHERE id = \(id)",
                                   logger: database.logger)
            } else {
                try await tx.query("UPDATE envmon.notification_outbox SET status = 'failed' WHERE id = \(id)",
                                   logger: database.logger)
            }
        }
    }

    /// Counts per status and the notifications that are failing or failed.
    public typealias Status = OutboxStatus

    public func status() async throws -> Status {
        var status = Status(pending: 0, delivered: 0, failed: 0, problems: [])
        for try await (state, count) in try await database.client.query(
            "SELECT status, count(*)::integer FROM envmon.notification_outbox GROUP BY status", logger: database.logger
        ).decode((String, Int).self) {
            switch state {
            case "pending": status.pending = count
            case "delivered": status.delivered = count
            default: status.failed = count
            }
        }
        for try await (id, receiver, state, attempts, error, next, created) in try await database.client.query("""
            SELECT id, receiver, status, attempts, last_error, next_attempt_at, created_at FROM envmon.notification_outbox
            WHERE status = 'failed' OR (status = 'pending' AND attempts > 0) ORDER BY id DESC LIMIT 100
            """, logger: database.logger).decode((Int64, String, String, Int, String?, Date, Date).self) {
            status.problems.append(.init(id: id, receiver: receiver, status: state, attempts: attempts, lastError: error,
                                         nextAttemptAt: next, createdAt: created))
        }
        return status
    }
}
