import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite(.timeLimit(.minutes(10)), .temporaryDatabases)
struct AnalystAccessTests {
    @Test func aCreatedAnalystReadsViewsButNotTokensAndCannotWrite() async throws {
        let db = try await TestDatabase.make()
        let name = "ana_\(UUID().uuidString.prefix(6).lowercased())"
        let password = try await db.withDatabase { try await AnalystAccess(database: $0).create(name: name) }
        var analyst = db.address
        analyst.user = name
        analyst.password = password
        let plan = try await TestDatabase.rows("SELECT count(*) AS n FROM analytics.plan_progress", address: analyst)
        #expect(plan.count == 1)
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("SELECT * FROM envmon.api_token", address: analyst)
        }
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("SELECT * FROM envmon.upload", address: analyst)
        }
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("SELECT * FROM envmon.audit_event", address: analyst)
        }
        // Nothing of their own in the database: no tables in public, no schemas.
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("CREATE TABLE public.scratch (x int) ", address: analyst)
        }
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("CREATE SCHEMA scratch", address: analyst)
        }
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("CREATE VIEW analytics.mine AS SELECT 1 AS one", address: analyst)
        }
        // A second create resets the password: the old one no longer works.
        let second = try await db.withDatabase { try await AnalystAccess(database: $0).create(name: name) }
        #expect(second != password)
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("SELECT 1 AS one", address: analyst)
        }
    }

    @Test("an analyst's forgotten open transaction is ended by the server; statements and lock waits are bounded")
    func analystSessionsAreBounded() async throws {
        let db = try await TestDatabase.make()
        let name = "ana_\(UUID().uuidString.prefix(6).lowercased())"
        var shortIdle = AnalystLimits()
        shortIdle.idleInTransactionTimeout = .seconds(1)
        let limits = shortIdle
        let password = try await db.withDatabase { try await AnalystAccess(database: $0).create(name: name, limits: limits) }
        let settings = try await db.value("""
            SELECT string_agg(s, ',' ORDER BY s) FROM pg_db_role_setting d JOIN pg_roles r ON r.oid = d.setrole,
                   unnest(d.setconfig) s WHERE r.rolname = '\(name)'
            """)
        #expect(settings == "idle_in_transaction_session_timeout=1000,lock_timeout=30000,statement_timeout=300000")

        // psql, as an analyst uses it: BEGIN, a query, then the client idles (sleeps) inside the
        // transaction; the server ends the session after the 1 s limit.
        let address = db.address
        let url = "postgres://\(name):\(password)@\(address.host):\(address.port)/\(address.database)?sslmode=disable"
        let script = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-idle-\(UUID().uuidString).sql")
        try Data("BEGIN;\nSELECT count(*) FROM analytics.plan_progress;\n\\! sleep 5\nSELECT 'still here';\n".utf8).write(to: script)
        defer { try? FileManager.default.removeItem(at: script) }
        let result = try await Shell.run("/usr/bin/env", ["psql", url, "-X", "-v", "ON_ERROR_STOP=1", "-f", script.path])
        #expect(result.status != 0)
        #expect(result.stderr.contains("idle-in-transaction"), "\(result.stderr)")
        #expect(!result.stdout.contains("still here"))
    }

    @Test func badNamesAreRefused() async throws {
        let db = try await TestDatabase.make()
        await #expect(throws: (any Error).self) {
            _ = try await db.withDatabase { try await AnalystAccess(database: $0).create(name: "Robert'); DROP TABLE x;--") }
        }
    }
}
