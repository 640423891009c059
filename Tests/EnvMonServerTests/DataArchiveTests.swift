import EmbeddedPostgres
import EnvMonDomain
import EnvMonTestSupport
import Foundation
import Testing

/// Retention through the real commands: `envmon db archive --before` moves old months'
/// readings, their superseded values and old uploads' bytes into a dump file and out of the
/// database; `envmon db restore-archive` brings every row back exactly.
@Suite("envmon db archive and restore-archive", .timeLimit(.minutes(10)), .temporaryDatabases)
struct DataArchiveTests {
    static func emissions(_ month: String, value: String) -> String {
        """
        企业编码,企业名称,所属街道,排放口编码,污染物,监测时间,监测值,单位,排放限值
        91310115MA1H7A2B3C,城东热电有限公司,城关街道,DA001,二氧化硫,\(month)-05 10:00,\(value),mg/m3,35
        91310115MA1H7A2B3C,城东热电有限公司,城关街道,DA001,二氧化硫,\(month)-05 11:00,21.5,mg/m3,35
        91310115MA1H7A2B3C,城东热电有限公司,城关街道,DA001,氮氧化物,\(month)-06 10:00,40.2,mg/m3,50
        """
    }

    @Test("an archive before a month round-trips every reading, superseded value and raw byte; meanwhile the aggregates stay and old bytes say where they are")
    func archiveAndRestore() async throws {
        let db = try await TestDatabase.make()
        let url = CLIProcessTests.url(db.address)
        let old = try await db.ingest(.emissions, csv: Self.emissions("2025-01", value: "18.6"))
        let corrected = try await db.ingest(.emissions, csv: Self.emissions("2025-01", value: "19.9"))  // one value superseded
        let kept = try await db.ingest(.emissions, csv: Self.emissions("2026-03", value: "18.6"))
        #expect([old.status, corrected.status, kept.status] == ["loaded", "loaded", "loaded"])
        // The first two arrived long ago.
        try await db.execute("UPDATE envmon.upload SET received_at = '2025-01-20 08:00+00' WHERE id IN (\(old.id), \(corrected.id))")

        let readings = "SELECT series_id, measured_at, value, upload_id FROM envmon.emission_reading ORDER BY 1, 2"
        let history = "SELECT series_id, measured_at, value, upload_id, superseded_by FROM envmon.emission_reading_history ORDER BY 1, 2, 4"
        let chunks = "SELECT upload_id, seq, md5(data) FROM envmon.upload_chunk ORDER BY 1, 2"
        let daily = "SELECT * FROM analytics.emission_daily ORDER BY series_id, day"
        let before = (try await db.rows(readings), try await db.rows(history), try await db.rows(chunks), try await db.rows(daily))
        #expect(before.0.count == 6 && before.1.count == 1)

        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-archive-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let file = folder.appendingPathComponent("before-2025-02.dump")
        let envmon = try CLIProcessTests.executable()
        let archived = try await Shell.run(envmon, ["db", "archive", "--before", "2025-02", "--output", file.path, "--database-url", url])
        #expect(archived.status == 0, "\(archived.stderr)")
        #expect(archived.stdout.contains("1 months (3 readings)") && archived.stdout.contains("raw bytes of 2 uploads"), "\(archived.stdout)")
        #expect(FileManager.default.fileExists(atPath: file.path))

        // Out: January's partition, its superseded value, the old uploads' bytes; in: March, the aggregates.
        #expect(try await db.value("SELECT count(*) FROM pg_class WHERE relname = 'emission_reading_202501'") == "0")
        #expect(try await db.rows(readings).count == 3)
        #expect(try await db.rows(history).isEmpty)
        #expect(try await db.value("SELECT count(*) FROM envmon.upload_chunk WHERE upload_id IN (\(old.id), \(corrected.id))") == "0")
        #expect(try await db.rows(daily) == before.3)
        let raw = try await Shell.run(envmon, ["uploads", "raw", "\(old.id)", "--database-url", url])
        #expect(raw.status != 0 && raw.stderr.contains("archived to") && raw.stderr.contains(file.lastPathComponent), "\(raw.stderr)")
        let revert = try await Shell.run(envmon, ["uploads", "revert", "\(corrected.id)", "--database-url", url])
        #expect(revert.status != 0 && revert.stderr.contains("restore it first"), "\(revert.stderr)")
        let audit = try await db.value("SELECT action FROM envmon.audit_event WHERE action = 'data.archive'")
        #expect(audit == "data.archive")
        // Nothing more to archive before that month.
        let again = try await Shell.run(envmon, ["db", "archive", "--before", "2025-02", "--output", folder.appendingPathComponent("again.dump").path,
                                                 "--database-url", url])
        #expect(again.status != 0 && again.stderr.contains("nothing before 2025-02"), "\(again.stderr)")

        let restored = try await Shell.run(envmon, ["db", "restore-archive", file.path, "--database-url", url])
        #expect(restored.status == 0, "\(restored.stderr)")
        #expect(try await db.rows(readings) == before.0)
        #expect(try await db.rows(history) == before.1)
        #expect(try await db.rows(chunks) == before.2)
        #expect(try await db.rows(daily) == before.3)
        // January is a partition again: a correction of it loads and supersedes as before.
        let late = try await db.ingest(.emissions, csv: Self.emissions("2025-01", value: "20.4"))
        #expect(late.status == "loaded")
        #expect(try await db.rows(history).count == 2)
        // An archive is restored once.
        let twice = try await Shell.run(envmon, ["db", "restore-archive", file.path, "--database-url", url])
        #expect(twice.status != 0 && twice.stderr.contains("not an archive of this database that is still out"), "\(twice.stderr)")
    }
}
