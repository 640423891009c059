import EnvMonDomain
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import PostgresNIO
import Testing

@Suite(.timeLimit(.minutes(10)), .temporaryDatabases)
struct MigrationTests {
    /// An empty database (not from the template).
    func emptyDatabase() async throws -> ServerAddress {
        try await TestDatabase.makeEmpty()
    }

    @Test func appliesOnEmptyDatabaseThenRerunIsANoOp() async throws {
        let address = try await emptyDatabase()
        try await Database.withDatabase(address, logger: TestDatabase.logger) { db in
            let migrator = Migrator(database: db)
            #expect(try await migrator.status().allSatisfy { $0.state == .pending })
            let first = try await migrator.migrate()
            #expect(first.applied == Migrator.bundledMigrations.map(\.name))
            #expect(first.applied.first == "0001_core.sql")
            #expect(first.viewsRecreated)
            let second = try await migrator.migrate()
            #expect(second.applied.isEmpty)
            #expect(second.viewsRecreated == false)
            #expect(try await migrator.isCurrent())
            #expect(try await migrator.status().allSatisfy { $0.state == .applied })
        }
        let tables = try await TestDatabase.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'envmon' ORDER BY 1", address: address)
            .compactMap { $0["table_name"] ?? nil }
        for expected in ["upload", "upload_chunk", "upload_rejection", "site", "emission_reading", "emission_reading_history",
                         "sewage_report", "water_sample", "green_survey", "waste_report", "fact_history", "plan_target",
                         "alert", "alert_event", "notification_outbox", "api_token", "schema_migrations"] {
            #expect(tables.contains(expected), "missing table envmon.\(expected)")
        }
    }

    @Test func anEditedAppliedMigrationIsRefused() async throws {
        let address = try await emptyDatabase()
        try await Database.withDatabase(address, logger: TestDatabase.logger) { db in
            try await Migrator(database: db).migrate()
            var edited = Migrator.bundledMigrations
            edited[0].sql += "\n-- an innocent-looking edit\n"
            let migrator = Migrator(database: db, migrations: edited)
            await #expect {
                try await migrator.migrate()
            } throws: { error in
                "\(error)".contains("0001_core.sql was changed after it was applied")
            }
            #expect(try await migrator.status().first?.state == .changed)
        }
    }

    @Test func concurrentMigrationsAreSerialised() async throws {
        let address = try await emptyDatabase()
        let reports = try await withThrowingTaskGroup(of: Migrator.Report.self) { group in
            for _ in 0..<3 {
                group.addTask {
                    try await Database.withDatabase(address, logger: TestDatabase.logger) { db in
                        try await Migrator(database: db).migrate()
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        // Exactly one run applied the migrations; the others found nothing to do.
        #expect(reports.filter { !$0.applied.isEmpty }.count == 1)
    }

    /// SwiftPM re-runs the embedding plugin only when the target's sources change, so a new
    /// file under sql/ can be missing from a binary built incrementally (touch Package.swift).
    @Test func theBinaryCarriesEverySQLFileOfTheCheckout() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("sql")
        for (folder, bundled) in [("migrations", Migrator.bundledMigrations), ("views", Migrator.bundledViews)] {
            let files = try FileManager.default.contentsOfDirectory(atPath: root.appendingPathComponent(folder).path)
                .filter { $0.hasSuffix(".sql") }.sorted()
            #expect(bundled.map(\.name) == files, "rebuild after touching Package.swift: sql/\(folder) changed")
            for script in bundled {
                let text = try String(contentsOf: root.appendingPathComponent(folder).appendingPathComponent(script.name),
                                      encoding: .utf8)
                #expect(script.sql == text, "sql/\(folder)/\(script.name) differs from the binary's copy")
            }
        }
    }

    /// Migration 0004: new archive chunks are compressed with lz4 (Debian's PostgreSQL has it).
    @Test func archiveChunksAreCompressedWithLZ4() async throws {
        let db = try await TestDatabase.make()
        #expect(try await db.value("""
            SELECT attcompression FROM pg_attribute WHERE attrelid = 'envmon.upload_chunk'::regclass AND attname = 'data'
            """) == "l")
        let big = String(repeating: "enterprise_id,outlet_id,pollutant,measured_at,value,limit\n", count: 1)
            + String(repeating: "E1,DA001,SO2,2026-03-01 01:00,1,35\n", count: 1)
            + String(repeating: "# padding that compresses well\n", count: 4_000)
        _ = try await db.ingest(.emissions, csv: big)
        #expect(try await db.value("SELECT pg_column_compression(data) FROM envmon.upload_chunk LIMIT 1") == "lz4")
    }

    @Test func sqlScriptSplitsLikePsql() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (v text DEFAULT 'x;y');
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $$ SELECT 1; $$;
            /* block; comment */ SELECT "we;ird" FROM a;
            DO $body$ BEGIN PERFORM 1; END $body$;
            """
        let statements = SQLScript.statements(script)
        #expect(statements.count == 4)
        #expect(statements[1].hasSuffix("$$ SELECT 1; $$"))
        #expect(statements[3].hasPrefix("DO $body$"))
    }
}
