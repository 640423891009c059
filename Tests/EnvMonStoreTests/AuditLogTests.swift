import EnvMonDomain
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

@Suite("The audit trail", .timeLimit(.minutes(10)), .temporaryDatabases)
struct AuditLogTests {
    @Test("events are appended and read back newest first, filtered by time and actor")
    func recordAndRead() async throws {
        let db = try await TestDatabase.make()
        let (all, clerk, later) = try await db.withDatabase { database in
            let log = AuditLog(database: database)
            try await log.record(AuditActor(name: "token:clerk", origin: "http 10.0.0.7"), "upload.create",
                                 subject: "upload 1", summary: "sewage a.csv")
            let between = Date()
            try await log.record(AuditActor(name: "cli:root", origin: "cli host-1"), "upload.revert",
                                 subject: "upload 1", summary: "3 rows removed")
            return (try await log.events(since: nil, actor: nil, limit: 10),
                    try await log.events(since: nil, actor: "token:clerk", limit: 10),
                    try await log.events(since: between, actor: nil, limit: 10))
        }
        #expect(all.map(\.action) == ["upload.revert", "upload.create"])
        #expect(clerk.map(\.origin) == ["http 10.0.0.7"])
        #expect(later.map(\.actor) == ["cli:root"])
        #expect(all.last?.summary == "sewage a.csv")
    }

    @Test("words are stored as they can be: control characters and NUL become spaces, lengths are capped")
    func hostileText() async throws {
        let db = try await TestDatabase.make()
        let events = try await db.withDatabase { database in
            let log = AuditLog(database: database)
            try await log.record(AuditActor(name: "token:a\u{0}b", origin: "http \u{1b}[31m"), "alert.acknowledge",
                                 subject: String(repeating: "长", count: 500), summary: "note\u{0}with NUL")
            return try await log.events(since: nil, actor: nil, limit: 1)
        }
        let event = try #require(events.first)
        #expect(event.actor == "token:a b")
        #expect(event.origin == "http  [31m")
        #expect(event.subject?.count == 200)
        #expect(event.summary == "note with NUL")
    }

    @Test("the trail is append-only: UPDATE, DELETE and TRUNCATE are refused, even to the owner")
    func appendOnly() async throws {
        let db = try await TestDatabase.make()
        try await db.withDatabase { database in
            try await AuditLog(database: database).record(AuditActor(name: "cli:root", origin: "cli h"), "token.create")
        }
        for statement in ["UPDATE envmon.audit_event SET actor = 'someone else'", "DELETE FROM envmon.audit_event",
                          "TRUNCATE envmon.audit_event"] {
            await #expect(throws: (any Error).self, "\(statement)") { try await db.execute(statement) }
        }
        #expect(try await db.value("SELECT actor FROM envmon.audit_event") == "cli:root")
    }
}
