public import EnvMonDomain
public import Foundation
import Logging
import PostgresNIO

/// A notification to deliver: one receiver's channel, with the JSON of its group.
public struct OutboxEntry: Sendable, Equatable {
    public var id: Int64?
    public var receiver: String
    public var channel: Data
    public var payload: Data
    public var alertIDs: [Int64]
    public var notBefore: Date
    public var attempts: Int
    public var lastError: String?
    public var status: String

    public init(id: Int64? = nil, receiver: String, channel: Data, payload: Data, alertIDs: [Int64], notBefore: Date,
                attempts: Int = 0, lastError: String? = nil, status: String = "pending") {
        self.id = id
        self.receiver = receiver
        self.channel = channel
        self.payload = payload
        self.alertIDs = alertIDs
        self.notBefore = notBefore
        self.attempts = attempts
        self.lastError = lastError
        self.status = status
    }
}

/// Alerts, their history, silences and the notification outbox.
public struct AlertStore: Sendable {
    static let evaluationLock: Int64 = 0x656E_7661_6C75  // "envalu"
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    public static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys]
        return encoder
    }()

    public static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    public static func json(_ value: some Encodable) throws -> String {
        String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// Runs one evaluation pass in a transaction holding the evaluation lock, so that concurrent
    /// evaluators (several `serve` processes) never interleave.
    public func withEvaluation<Result: Sendable>(
        _ body: (AlertTransaction) async throws -> Result
    ) async throws -> Result {
        let logger = database.logger
        return try await database.client.withConnection { connection in
            try await connection.withTransaction(logger: logger) { tx in
                try await tx.query("SELECT pg_advisory_xact_lock(\(Self.evaluationLock))", logger: logger)
                return try await body(AlertTransaction(connection: tx, logger: logger))
            }
        }
    }

    static let alertColumns = """
        id, fingerprint, rule, kind, severity, state, labels::text AS labels, annotations::text AS annotations, value,
        target, active_since, fired_at, resolved_at, last_seen_active, acked_by, acked_at, ack_note,
        last_notified::text AS last_notified, escalated_to
        """

    static func decodeAlert(_ row: PostgresRow) throws -> AlertState {
        let r = row.makeRandomAccess()
        let labels = try decoder.decode([String: String].self, from: Data(try r["labels"].decode(String.self).utf8))
        let annotations = try decoder.decode([String: String].self, from: Data(try r["annotations"].decode(String.self).utf8))
        let notified = try decoder.decode([String: Date].self, from: Data(try r["last_notified"].decode(String.self).utf8))
        return AlertState(
            id: try r["id"].decode(Int64.self), fingerprint: try r["fingerprint"].decode(String.self),
            rule: try r["rule"].decode(String.self), kind: try r.word("kind", AlertRuleKind.self, view: "envmon.alert"),
            severity: try r.word("severity", AlertSeverity.self, view: "envmon.alert"),
            state: try r.word("state", AlertPhase.self, view: "envmon.alert"),
            labels: labels, annotations: annotations, value: try r["value"].decode(Double?.self),
            target: try r["target"].decode(Double?.self), activeSince: try r["active_since"].decode(Date.self),
            firedAt: try r["fired_at"].decode(Date?.self), resolvedAt: try r["resolved_at"].decode(Date?.self),
            lastSeenActive: try r["last_seen_active"].decode(Date.self), ackedBy: try r["acked_by"].decode(String?.self),
            ackedAt: try r["acked_at"].decode(Date?.self), ackNote: try r["ack_note"].decode(String?.self),
            lastNotifiedAt: notified, escalatedTo: try r["escalated_to"].decode([String].self))
    }

    /// Alerts in a phase (nil for every one), newest first.
    public func list(state: AlertPhase?, limit: Int = 500) async throws -> [AlertState] {
        let phase = state?.rawValue
        let rows = try await database.client.query("""
            SELECT \(unescaped: Self.alertColumns) FROM envmon.alert
            WHERE \(phase)::text IS NULL OR state = \(phase)
            ORDER BY id DESC LIMIT \(limit)
            """, logger: database.logger)
        var result: [AlertState] = []
        for try await row in rows { result.append(try Self.decodeAlert(row)) }
        return result
    }

    public func alert(id: Int64) async throws -> AlertState? {
        let rows = try await database.client.query(
            "SELECT \(unescaped: Self.alertColumns) FROM envmon.alert WHERE id = \(id)", logger: database.logger)
        for try await row in rows { return try Self.decodeAlert(row) }
        return nil
    }

    /// Every transition and action of an alert, oldest first.
    public func history(alertID: Int64) async throws -> [AlertEventRecord] {
        let rows = try await database.client.query("""
            SELECT alert_id, at, from_state, to_state, event, actor, details::text FROM envmon.alert_event
            WHERE alert_id = \(alertID) ORDER BY at, id
            """, logger: database.logger)
        var result: [AlertEventRecord] = []
        for try await (id, at, from, to, event, actor, details) in rows.decode((Int64, Date, String?, String?, String, String?, String).self) {
            let map = try Self.decoder.decode([String: String].self, from: Data(details.utf8))
            guard let kind = AlertEventKind(rawValue: event) else {
                throw ViewRowError(view: "envmon.alert_event", column: "event", reason: "unknown value '\(event)'")
            }
            func phase(_ text: String?) throws -> AlertPhase? {
                guard let text else { return nil }
                guard let phase = AlertPhase(rawValue: text) else {
                    throw ViewRowError(view: "envmon.alert_event", column: "state", reason: "unknown value '\(text)'")
                }
                return phase
            }
            result.append(AlertEventRecord(alertID: id, at: at, fromState: try phase(from), toState: try phase(to),
                                           event: kind, actor: actor, details: map))
        }
        return result
    }

    /// Acknowledges an open alert: who, when, why. Stops repeats and escalation.
    public func acknowledge(alertID: Int64, by: String, note: String?, at: Date) async throws -> AlertState {
        try FreeText.checked(by, field: "who acknowledges", maximumLength: 200)
        if let note { try FreeText.checked(note, field: "the note") }
        let logger = database.logger
        return try await database.client.withTransaction(logger: logger) { tx in
            var found: AlertState?
            for try await row in try await tx.query(
                "SELECT \(unescaped: Self.alertColumns) FROM envmon.alert WHERE id = \(alertID) FOR UPDATE", logger: logger) {
                found = try Self.decodeAlert(row)
            }
            guard var alert = found else { throw EnvMonError.notFound("no alert with id \(alertID)") }
            guard alert.state.isOpen else {
                throw EnvMonError.conflict("alert \(alertID) is already \(alert.state.rawValue); nothing to acknowledge")
            }
            try await tx.query("""
                UPDATE envmon.alert SET acked_by = \(by), acked_at = \(at), ack_note = \(note), updated_at = now()
                WHERE id = \(alertID)
                """, logger: logger)
            let details = try Self.json(note.map { ["note": $0] } ?? [:])
            try await tx.query("""
                INSERT INTO envmon.alert_event (alert_id, at, from_state, to_state, event, actor, details)
                VALUES (\(alertID), \(at), \(alert.state.rawValue), \(alert.state.rawValue), 'acknowledged', \(by),
                        \(details)::jsonb)
                """, logger: logger)
            alert.ackedBy = by
            alert.ackedAt = at
            alert.ackNote = note
            return alert
        }
    }

    // MARK: Silences

    public func addSilence(matchers: [String], startsAt: Date, endsAt: Date, author: String, reason: String) async throws -> Int64 {
        try FreeText.checked(author, field: "the author", maximumLength: 200)
        try FreeText.checked(reason, field: "the reason")
        for matcher in matchers { try FreeText.checked(matcher, field: "a matcher") }
        let json = try Self.json(matchers)
        let rows = try await database.client.query("""
            INSERT INTO envmon.silence (matchers, starts_at, ends_at, author, reason)
            VALUES (\(json)::jsonb, \(startsAt), \(endsAt), \(author), \(reason)) RETURNING id
            """, logger: database.logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw EnvMonError.conflict("the silence was not stored")
    }

    public func silences(includeExpired: Bool, at now: Date) async throws -> [SilenceRecord] {
        let rows = try await database.client.query("""
            SELECT id, matchers::text, starts_at, ends_at, author, reason, expired_at FROM envmon.silence
            WHERE \(includeExpired) OR (expired_at IS NULL AND ends_at > \(now))
            ORDER BY id
            """, logger: database.logger)
        return try await Self.decodeSilences(rows)
    }

    static func decodeSilences(_ rows: PostgresRowSequence) async throws -> [SilenceRecord] {
        var result: [SilenceRecord] = []
        for try await (id, matchers, starts, ends, author, reason, expired) in rows.decode((Int64, String, Date, Date, String, String, Date?).self) {
            let list = try decoder.decode([String].self, from: Data(matchers.utf8))
            result.append(SilenceRecord(id: id, matchers: list, startsAt: starts, endsAt: ends, author: author,
                                        reason: reason, expiredAt: expired))
        }
        return result
    }

    /// Ends a silence now.
    public func expireSilence(id: Int64, at now: Date) async throws -> Bool {
        let rows = try await database.client.query("""
            UPDATE envmon.silence SET expired_at = \(now) WHERE id = \(id) AND expired_at IS NULL RETURNING id
            """, logger: database.logger)
        for try await _ in rows.decode(Int64.self) { return true }
        return false
    }
}

/// The evaluation transaction: read open alerts, write states, events and notifications.
public struct AlertTransaction: Sendable {
    let connection: PostgresConnection
    let logger: Logger

    /// Pending and firing alerts, plus those resolved since `resolvedSince` (their resolved
    /// notices may still be due).
    public func alerts(resolvedSince: Date) async throws -> [AlertState] {
        let rows = try await connection.query("""
            SELECT \(unescaped: AlertStore.alertColumns) FROM envmon.alert
            WHERE state IN ('pending', 'firing') OR (state = 'resolved' AND resolved_at >= \(resolvedSince))
            ORDER BY id FOR UPDATE
            """, logger: logger)
        var result: [AlertState] = []
        for try await row in rows { result.append(try AlertStore.decodeAlert(row)) }
        return result
    }

    /// Inserts new alerts (id nil) and updates the others; returns every alert with its id.
    public func save(_ alerts: [AlertState]) async throws -> [AlertState] {
        var saved: [AlertState] = []
        for var alert in alerts {
            let labels = try AlertStore.json(alert.labels)
            let annotations = try AlertStore.json(alert.annotations)
            let notified = try AlertStore.json(alert.lastNotifiedAt)
            if let id = alert.id {
                try await connection.query("""
                    UPDATE envmon.alert SET state = \(alert.state.rawValue), labels = \(labels)::jsonb,
                        kind = \(alert.kind.rawValue), severity = \(alert.severity.rawValue),
                        annotations = \(annotations)::jsonb, value = \(alert.value), target = \(alert.target),
                        fired_at = \(alert.firedAt), resolved_at = \(alert.resolvedAt),
                        last_seen_active = \(alert.lastSeenActive), last_notified = \(notified)::jsonb,
                        escalated_to = \(alert.escalatedTo), updated_at = now()
                    WHERE id = \(id)
                    """, logger: logger)
            } else {
                let rows = try await connection.query("""
                    INSERT INTO envmon.alert (fingerprint, rule, kind, severity, state, labels, annotations, value, target,
                        active_since, fired_at, resolved_at, last_seen_active, last_notified, escalated_to)
                    VALUES (\(alert.fingerprint), \(alert.rule), \(alert.kind.rawValue), \(alert.severity.rawValue),
                        \(alert.state.rawValue),
                        \(labels)::jsonb, \(annotations)::jsonb, \(alert.value), \(alert.target), \(alert.activeSince),
                        \(alert.firedAt), \(alert.resolvedAt), \(alert.lastSeenActive), \(notified)::jsonb,
                        \(alert.escalatedTo))
                    RETURNING id
                    """, logger: logger)
                for try await id in rows.decode(Int64.self) { alert.id = id }
            }
            saved.append(alert)
        }
        return saved
    }

    public func record(_ events: [AlertEventRecord]) async throws {
        for event in events {
            let details = try AlertStore.json(event.details)
            try await connection.query("""
                INSERT INTO envmon.alert_event (alert_id, at, from_state, to_state, event, actor, details)
                VALUES (\(event.alertID), \(event.at), \(event.fromState?.rawValue), \(event.toState?.rawValue),
                        \(event.event.rawValue),
                        \(event.actor), \(details)::jsonb)
                """, logger: logger)
        }
    }

    /// Writes notifications to the outbox, in this transaction.
    public func enqueue(_ entries: [OutboxEntry]) async throws {
        for entry in entries {
            let channel = String(decoding: entry.channel, as: UTF8.self)
            let payload = String(decoding: entry.payload, as: UTF8.self)
            try await connection.query("""
                INSERT INTO envmon.notification_outbox (receiver, channel, payload, alert_ids, not_before, next_attempt_at)
                VALUES (\(entry.receiver), \(channel)::jsonb, \(payload)::jsonb, \(entry.alertIDs), \(entry.notBefore),
                        '-infinity')
                """, logger: logger)
        }
    }

    /// Silences not expired by hand (the planner checks their windows).
    public func silences() async throws -> [SilenceRecord] {
        let rows = try await connection.query("""
            SELECT id, matchers::text, starts_at, ends_at, author, reason, expired_at FROM envmon.silence
            WHERE expired_at IS NULL
            """, logger: logger)
        return try await AlertStore.decodeSilences(rows)
    }
}
