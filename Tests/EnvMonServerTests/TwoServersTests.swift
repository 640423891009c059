import EmbeddedPostgres
import EnvMonDomain
import EnvMonTestSupport
import Foundation
import PostgresNIO
import Testing

/// Two `envmon serve` processes on one database, as behind a load balancer: they share the
/// uploads, the ingest jobs, the evaluation and the notifications, and nothing happens twice —
/// also when one of them is killed while it holds jobs.
@Suite("two envmon serve processes on one database", .timeLimit(.minutes(10)), .temporaryDatabases)
struct TwoServersTests {
    @Test("one alert and one email per group; uploads to either load exactly once; a killed server's jobs are finished by the other")
    func twoServersShareTheWork() async throws {
        let db = try await ServeProcessTests.databaseWithAnAlertDue()
        let url = CLIProcessTests.url(db.address)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-two-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
            receivers:
              - name: email
                email:
                  to: ["ops@example.gov.cn"]
            route:
              receiver: email
              group_by: [alertname, metric]
              group_wait: 0s
              group_interval: 1s
              repeat_interval: 24h
            """.write(to: directory.appendingPathComponent("routes.yaml"), atomically: true, encoding: .utf8)
        let mail = try await LoopbackServer.start("smtp_harness.py", ["--mode", "plain"], in: directory)
        defer { mail.stop() }
        let environment = ["ENVMON_SMTP_URL": "smtp://127.0.0.1:\(mail.port)?starttls=never",
                           "ENVMON_MAIL_FROM": "envmon@example.gov.cn"]
        let arguments = ["--database-url", url, "--workers", "2", "--job-lease", "5", "--uploads-per-minute", "0",
                         "--alerts-dir", directory.path]
        let token = try await ServeProcessTests.token(["--database-url", url])

        let first = try await ServeProcessTests.Server.start(arguments, environment: environment)
        let second = try await ServeProcessTests.Server.start(arguments, environment: environment)
        defer { first.child.signal(SIGKILL); second.child.signal(SIGKILL) }

        // Both evaluate and both deliver; the alert exists once and each email arrives once.
        var delivered = 0
        for _ in 0..<1200 where delivered == 0 {
            delivered = Int(try await db.value("SELECT count(*) FROM envmon.notification_outbox WHERE status = 'delivered'") ?? "") ?? 0
            if delivered == 0 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(delivered >= 1)
        #expect(try await db.value("SELECT count(*) FROM (SELECT fingerprint FROM envmon.alert GROUP BY 1 HAVING count(*) > 1) d") == "0")
        #expect(try await db.value("SELECT count(*) FROM envmon.alert WHERE state = 'firing'") != "0")
        let queued = Int(try await db.value("SELECT count(*) FROM envmon.notification_outbox") ?? "") ?? 0
        var received = 0
        for _ in 0..<600 where received < queued {
            received = try mail.received().count
            if received < queued { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(received == queued, "\(received) emails for \(queued) notifications")

        // Uploads to both while loads are held (a share lock on the sewage table lets reads go
        // on): each server's workers claim jobs and wait inside them.
        let count = 40
        let ids = try await TestCluster.withConnection(db.address) { connection -> [Int] in
            try await connection.query("BEGIN", logger: TestDatabase.logger)
            try await connection.query("LOCK TABLE envmon.sewage_report IN SHARE MODE", logger: TestDatabase.logger)
            let ids = try await withThrowingTaskGroup(of: Int.self) { group in
                for n in 0..<count {
                    group.addTask {
                        let body = Data("""
                            污水处理厂编码,污水处理厂名称,所属街道,月份,污水排放量,污水处理量
                            P\(n),第\(n)污水处理厂,城关街道,2026-03,\(100_000 + n),\(95_000 + n)
                            """.utf8)
                        return try await ServeProcessTests.upload(n % 2 == 0 ? first.base : second.base, token: token, body: body)
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            // Wait until the first server holds jobs, then kill it in the middle of them.
            var held = 0
            for _ in 0..<3000 where held == 0 {
                held = Int(try await TestDatabase.rows("""
                    SELECT count(*)::text AS n FROM envmon.ingest_job WHERE status = 'running' AND worker LIKE '%:\(first.child.pid)%'
                    """, address: db.address).first?["n"].flatMap { $0 } ?? "") ?? 0
                if held == 0 { try await Task.sleep(for: .milliseconds(20)) }
            }
            #expect(held > 0, "the first server never held a job")
            #expect(try await first.stop(SIGKILL, within: 60) != nil)
            try await connection.query("COMMIT", logger: TestDatabase.logger)
            return ids
        }
        #expect(Set(ids).count == count)
        for id in ids {
            #expect(try await ServeProcessTests.outcome(second.base, token: token, id: id) == "loaded", "upload \(id)")
        }
        // The new plants raise alerts of their own (their March reports are long overdue): every
        // notification queued by either server is delivered once, by one of them.
        var pending = "1"
        for _ in 0..<2000 where pending != "0" {  // a dead claim on a notification lasts 120 s
            pending = try await db.value("SELECT count(*) FROM envmon.notification_outbox WHERE status <> 'delivered'") ?? "1"
            if pending != "0" { try await Task.sleep(for: .milliseconds(100)) }
        }
        _ = try await second.stop(SIGTERM, within: 120)
        // Every plant once, every upload loaded once, every job done.
        #expect(try await db.value("SELECT count(*) FROM envmon.sewage_report WHERE plant_id LIKE 'P%'") == "\(count)")
        #expect(try await db.value("SELECT count(DISTINCT upload_id) FROM envmon.sewage_report WHERE plant_id LIKE 'P%'") == "\(count)")
        #expect(try await db.value("SELECT count(*) FROM envmon.ingest_job WHERE status <> 'done'") == "0")
        #expect(try await db.value("SELECT count(*) FROM envmon.upload WHERE status = 'loaded' AND id = ANY('{\(ids.map(String.init).joined(separator: ","))}'::bigint[])") == "\(count)")
        // One email per notification, after both are gone.
        #expect(pending == "0")
        // (An evaluation just before the stop may have queued one more, still undelivered.)
        let notifications = Int(try await db.value("SELECT count(*) FROM envmon.notification_outbox WHERE status = 'delivered'") ?? "") ?? 0
        #expect(try mail.received().count == notifications, "\(notifications) notifications delivered")
        #expect(try await db.value("SELECT count(*) FROM (SELECT fingerprint FROM envmon.alert GROUP BY 1 HAVING count(*) > 1) d") == "0")
    }
}
