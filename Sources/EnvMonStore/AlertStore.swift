public import Foundation
import Logging
public import PostgresNIO

/// An alert as stored in `envmon.alert` (one row per alert lifetime).
public struct StoredAlert: Sendable, Codable, Equatable {
    public var id: Int64?
    public var fingerprint: String
    public var rule: String
    public var kind: String
    public var severity: String
    public var state: String
    public var labels: [String: String]
    public var annotations: [String: String]
    public var value: Double?
    public var target: Double?
    public var activeSince: Date
    public var firedAt: Date?
    public var resolvedAt: Date?
    public var lastSeenActive: Date
    public var ackedBy: String?
    public var ackedAt: Date?
    public var ackNote: String?
    public var lastNotified: [String: Date]
    public var escalatedTo: [String]

    public init(id: Int64?, fingerprint: String, rule: String, kind: String, severity: String, state: String,
                labels: [String: String], annotations: [String: String], value: Double?, target: Double?,
                activeSince: Date, firedAt: Date?, resolvedAt: Date?, lastSeenActive: Date, ackedBy: String?,
                ackedAt: Date?, ackNote: String?, lastNotified: [String: Date], escalatedTo: [String]) {
        self.id = id
        self.fingerprint = fingerprint
        self.rule = rule
        self.kind = kind
        self.severity = severity
        self.state = state
        self.labels = labels
        self.annotations = annotations
        self.value = value
        self.target = target
        self.activeSince = activeSince
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
        self.lastSeenActive = lastSeenActive
        self.ackedBy = ackedBy
        self.ackedAt = ackedAt
        self.ackNote = ackNote
        self.lastNotified = lastNotified
        self.escalatedTo = escalatedTo
    }
}

/// One entry of an alert's history.
public struct AlertEventRecord: Sendable, Codable, Equatable {
    public var alertID: Int64
    public var at: Date
    public var fromState: String?
    public var toState: String?
    public var event: String
    public var actor: String?
    public var details: [String: String]

    public init(alertID: Int64, at: Date, fromState: String?, toState: String?, event: String, actor: String? = nil,
                details: [String: String] = [:]) {
        self.alertID = alertID
        self.at = at
        self.fromState = fromState
        self.toState = toState
        self.event = event
        self.actor = actor
        self.details = details
    }
}

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

/// A silence as stored.
public struct StoredSilence: Sendable, Codable, Equatable {
    public var id: Int64
    public var matchers: [String]
    public var startsAt: Date
    public var endsAt: Date
    public var author: String
    public var reason: String
    public var expiredAt: Date?
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
        id, fingerprint, rule, kind, severity, state, labels::text, annotations::text, value, target, active_since,
        fired_at, resolved_at, last_seen_active, acked_by, acked_at, ack_note, last_notified::text, escalated_to
        """

    static func decodeAlert(_ row: PostgresRow) throws -> StoredAlert {
        let r = row.makeRandomAccess()
        let labels = try decoder.decode([String: String].self, from: Data(try r[6].decode(String.self).utf8))
        let annotations = try decoder.decode([String: String].self, from: Data(try r[7].decode(String.self).utf8))
        let notified = try decoder.decode([String: Date].self, from: Data(try r[17].decode(String.self).utf8))
        return StoredAlert(
            id: try r[0].decode(Int64.self), fingerprint: try r[1].decode(String.self), rule: try r[2].decode(String.self),
            kind: try r[3].decode(String.self), severity: try r[4].decode(String.self), state: try r[5].decode(String.self),
            labels: labels, annotations: annotations, value: try r[8].decode(Double?.self), target: try r[9].decode(Double?.self),
            activeSince: try r[10].decode(Date.self), firedAt: try r[11].decode(Date?.self),
            resolvedAt: try r[12].decode(Date?.self), lastSeenActive: try r[13].decode(Date.self),
            ackedBy: try r[14].decode(String?.self), ackedAt: try r[15].decode(Date?.self),
            ackNote: try r[16].decode(String?.self), lastNotified: notified,
            escalatedTo: try r[18].decode([String].self))
    }

    /// Alerts in a state (`all` for every one), newest first.
    public func list(state: String, limit: Int = 500) async throws -> [StoredAlert] {
        let rows = try await database.client.query("""
            SELECT \(unescaped: Self.alertColumns) FROM envmon.alert
            WHERE \(state) = 'all' OR state = \(state)
            ORDER BY id DESC LIMIT \(limit)
            """, logger: database.logger)
        var result: [StoredAlert] = []
        for try await row in rows { result.append(try Self.decodeAlert(row)) }
        return result
    }

    public func alert(id: Int64) async throws -> StoredAlert? {
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
            let map = (try? Self.decoder.decode([String: String].self, from: Data(details.utf8))) ?? [:]
            result.append(AlertEventRecord(alertID: id, at: at, fromState: from, toState: to, event: event, actor: actor, details: map))
        }
        return result
    }

    /// Acknowledges an open alert: who, when, why. Stops repeats and escalation.
    public func acknowledge(alertID: Int64, by: String, note: String?, at: Date) async throws -> StoredAlert {
        let logger = database.logger
        return try await database.client.withTransaction(logger: logger) { tx in
            var found: StoredAlert?
            for try await row in try await tx.query(
                "SELECT \(unescaped: Self.alertColumns) FROM envmon.alert WHERE id = \(alertID) FOR UPDATE", logger: logger) {
                found = try Self.decodeAlert(row)
            }
            guard var alert = found else { throw AlertNotFound(id: alertID) }
            guard alert.state != "resolved" else {
                throw AlertStateConflict(reason: "alert \(alertID) is already resolved; nothing to acknowledge")
            }
            try await tx.query("""
                UPDATE envmon.alert SET acked_by = \(by), acked_at = \(at), ack_note = \(note), updated_at = now()
                WHERE id = \(alertID)
                """, logger: logger)
            let details = try Self.json(note.map { ["note": $0] } ?? [:])
            try await tx.query("""
                INSERT INTO envmon.alert_event (alert_id, at, from_state, to_state, event, actor, details)
                VALUES (\(alertID), \(at), \(alert.state), \(alert.state), 'acknowledged', \(by), \(details)::jsonb)
                """, logger: logger)
            alert.ackedBy = by
            alert.ackedAt = at
            alert.ackNote = note
            return alert
        }
    }

    // MARK: Silences

    public func addSilence(matchers: [String], startsAt: Date, endsAt: Date, author: String, reason: String) async throws -> Int64 {
        let json = try Self.json(matchers)
        let rows = try await database.client.query("""
            INSERT INTO envmon.silence (matchers, starts_at, ends_at, author, reason)
            VALUES (\(json)::jsonb, \(startsAt), \(endsAt), \(author), \(reason)) RETURNING id
            """, logger: database.logger)
        for try await id in rows.decode(Int64.self) { return id }
        throw AlertStateConflict(reason: "the silence was not stored")
    }

    public func silences(includeExpired: Bool, at now: Date) async throws -> [StoredSilence] {
        let rows = try await database.client.query("""
            SELECT id, matchers::text, starts_at, ends_at, author, reason, expired_at FROM envmon.silence
            WHERE \(includeExpired) OR (expired_at IS NULL AND ends_at > \(now))
            ORDER BY id
            """, logger: database.logger)
        var result: [StoredSilence] = []
        for try await (id, matchers, starts, ends, author, reason, expired) in rows.decode((Int64, String, Date, Date, String, String, Date?).self) {
            let list = (try? Self.decoder.decode([String].self, from: Data(matchers.utf8))) ?? []
            result.append(StoredSilence(id: id, matchers: list, startsAt: starts, endsAt: ends, author: author,
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
    public func alerts(resolvedSince: Date) async throws -> [StoredAlert] {
        let rows = try await connection.query("""
            SELECT \(unescaped: AlertStore.alertColumns) FROM envmon.alert
            WHERE state IN ('pending', 'firing') OR (state = 'resolved' AND resolved_at >= \(resolvedSince))
            ORDER BY id FOR UPDATE
            """, logger: logger)
        var result: [StoredAlert] = []
        for try await row in rows { result.append(try AlertStore.decodeAlert(row)) }
        return result
    }

    /// Inserts new alerts (id nil) and updates the others; returns every alert with its id.
    public func save(_ alerts: [StoredAlert]) async throws -> [StoredAlert] {
        var saved: [StoredAlert] = []
        for var alert in alerts {
            let labels = try AlertStore.json(alert.labels)
            let annotations = try AlertStore.json(alert.annotations)
            let notified = try AlertStore.json(alert.lastNotified)
            if let id = alert.id {
                try await connection.query("""
                    UPDATE envmon.alert SET state = \(alert.state), labels = \(labels)::jsonb,
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
                    VALUES (\(alert.fingerprint), \(alert.rule), \(alert.kind), \(alert.severity), \(alert.state),
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
                VALUES (\(event.alertID), \(event.at), \(event.fromState), \(event.toState), \(event.event),
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
    public func silences() async throws -> [StoredSilence] {
        let rows = try await connection.query("""
            SELECT id, matchers::text, starts_at, ends_at, author, reason, expired_at FROM envmon.silence
            WHERE expired_at IS NULL
            """, logger: logger)
        var result: [StoredSilence] = []
        for try await (id, matchers, starts, ends, author, reason, expired) in rows.decode((Int64, String, Date, Date, String, String, Date?).self) {
            let list = (try? AlertStore.decoder.decode([String].self, from: Data(matchers.utf8))) ?? []
            result.append(StoredSilence(id: id, matchers: list, startsAt: starts, endsAt: ends, author: author,
                                        reason: reason, expiredAt: expired))
        }
        return result
    }

    /// Rows of an analytics query, every column as text, for building alert candidates.
    public func rows(_ sql: String, binds: PostgresBindings = PostgresBindings()) async throws -> [[String: String]] {
        try await TextRows.fetch(sql, binds: binds, on: connection, logger: logger)
    }
}

/// Reads any query's rows with every column as text (via jsonb), NULL columns left out.
enum TextRows {
    static func fetch(_ sql: String, binds: PostgresBindings, on connection: PostgresConnection, logger: Logger) async throws -> [[String: String]] {
        let wrapped = """
            SELECT (SELECT jsonb_object_agg(e.key, e.value #>> '{}') FROM jsonb_each(to_jsonb(q)) e
                    WHERE jsonb_typeof(e.value) <> 'null')::text
            FROM (\(sql)) q
            """
        var result: [[String: String]] = []
        for try await text in try await connection.query(PostgresQuery(unsafeSQL: wrapped, binds: binds), logger: logger)
            .decode(String?.self) {
            guard let text, let map = try? AlertStore.decoder.decode([String: String].self, from: Data(text.utf8)) else {
                result.append([:])
                continue
            }
            result.append(map)
        }
        return result
    }
}

public struct AlertNotFound: Error, Sendable, CustomStringConvertible {
    public let id: Int64
    public init(id: Int64) { self.id = id }
    public var description: String { "no alert with id \(id)" }
}

public struct AlertStateConflict: Error, Sendable, CustomStringConvertible {
    public let reason: String
    public init(reason: String) { self.reason = reason }
    public var description: String { reason }
}
