@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Testing

@Suite(.timeLimit(.minutes(2)), .temporaryDatabases)
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
        // A second create resets the password: the old one no longer works.
        let second = try await db.withDatabase { try await AnalystAccess(database: $0).create(name: name) }
        #expect(second != password)
        await #expect(throws: (any Error).self) {
            _ = try await TestDatabase.rows("SELECT 1 AS one", address: analyst)
        }
    }

    @Test func badNamesAreRefused() async throws {
        let db = try await TestDatabase.make()
        await #expect(throws: (any Error).self) {
            _ = try await db.withDatabase { try await AnalystAccess(database: $0).create(name: "Robert'); DROP TABLE x;--") }
        }
    }
}
