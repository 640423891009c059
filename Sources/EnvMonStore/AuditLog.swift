public import EnvMonDomain
public import Foundation
import Logging
import PostgresNIO

/// The append-only audit trail `envmon.audit_event` (migration 0006).
public struct AuditLog: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Appends one event. Text is made storable rather than refused (control characters become
    /// spaces, lengths are capped): an audit row must not fail on the words it quotes.
    public func record(_ actor: AuditActor, _ action: String, subject: String? = nil, summary: String = "") async throws {
        let actorName = Self.storable(actor.name, limit: 200)
        let origin = Self.storable(actor.origin, limit: 200)
        let subject = subject.map { Self.storable($0, limit: 200) }
        let summary = Self.storable(summary, limit: 2000)
        try await database.client.query("""
            INSERT INTO envmon.audit_event (actor, origin, action, subject, summary)
            VALUES (\(actorName.isEmpty ? "?" : actorName), \(origin.isEmpty ? "?" : origin), \(action), \(subject), \(summary))
            """, logger: database.logger)
    }

    /// Events, newest first.
    public func events(since: Date?, actor: String?, limit: Int) async throws -> [AuditEvent] {
        let rows = try await database.client.query("""
            SELECT id, at, actor, origin, action, subject, summary FROM envmon.audit_event
             WHERE (\(since)::timestamptz IS NULL OR at >= \(since))
               AND (\(actor)::text IS NULL OR actor = \(actor))
             ORDER BY at DESC, id DESC LIMIT \(limit)
            """, logger: database.logger)
        var result: [AuditEvent] = []
        for try await (id, at, actor, origin, action, subject, summary)
            in rows.decode((Int64, Date, String, String, String, String?, String).self) {
            result.append(AuditEvent(id: id, at: at, actor: actor, origin: origin, action: action,
                                     subject: subject, summary: summary))
        }
        return result
    }

    static func storable(_ text: String, limit: Int) -> String {
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalars.count >= limit { break }
            scalars.append(scalar.properties.generalCategory == .control ? " " : scalar)
        }
        return String(scalars)
    }
}

/// What `envmon db backup|restore` asks of the database itself.
public struct BackupChecks: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Whether the database already has envmon's schema.
    public func hasSchema() async throws -> Bool {
        let rows = try await database.client.query("SELECT to_regnamespace('envmon') IS NOT NULL", logger: database.logger)
        for try await exists in rows.decode(Bool.self) { return exists }
        return false
    }

    /// Creates the group role a dump grants to, when the cluster lacks it and we may.
    public func ensureGroupRoles() async throws {
        try await database.client.query("""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'envmon_analyst') THEN
                    BEGIN CREATE ROLE envmon_analyst NOLOGIN; EXCEPTION WHEN insufficient_privilege THEN NULL; END;
                END IF;
            END $$
            """, logger: database.logger)
    }

    public func uploadCount() async throws -> Int64 {
        let rows = try await database.client.query("SELECT count(*) FROM envmon.upload", logger: database.logger)
        for try await count in rows.decode(Int64.self) { return count }
        return 0
    }
}
