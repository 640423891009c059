import EmbeddedPostgres
import EnvMonDomain
import EnvMonStore
import EnvMonTestSupport
import Foundation
import Logging
import PostgresNIO
import Testing

/// `envmon serve` as an operator runs it: a real process, signalled and killed, over real
/// HTTP, on a real cluster (its own, where the test restarts PostgreSQL under it).
@Suite("envmon serve as a process", .timeLimit(.minutes(10)), .temporaryDatabases)
struct ServeProcessTests {
    /// A running `envmon serve`.
    struct Server {
        let child: Shell.Child
        let base: String

        static func start(_ arguments: [String], environment: [String: String] = [:]) async throws -> Server {
            let port = try ServiceGroupTests.freePort()
            let child = try Shell.spawn(try CLIProcessTests.executable(),
                                        ["serve", "--port", "\(port)", "--log-level", "warning"] + arguments,
                                        environment: environment)
            let server = Server(child: child, base: "http://127.0.0.1:\(port)")
            // Up to five minutes: the first start of an embedded cluster runs initdb and migrations.
            try await server.waitUntilReady(attempts: 3000)
            return server
        }

        /// Waits until `/readyz` answers 200; fails when the process exits first.
        func waitUntilReady(attempts: Int) async throws {
            for _ in 0..<attempts {
                if let exited = try child.poll() {
                    throw CLIProcessError("envmon serve exited with \(exited.status): \(exited.stderr.suffix(2000))")
                }
                if (try? await ServiceGroupTests.request("\(base)/readyz").0) == 200 { return }
                try await Task.sleep(for: .milliseconds(100))
            }
            throw CLIProcessError("envmon serve at \(base) was not ready")
        }

        /// Sends `signal` and waits (polling, up to `seconds`) for the process to end; nil
        /// when it is still running then (it is killed, so no test leaves it behind).
        func stop(_ signal: Int32, within seconds: Int) async throws -> Shell.Result? {
            child.signal(signal)
            for _ in 0..<(seconds * 10) {
                if let result = try child.poll() { return result }
                try await Task.sleep(for: .milliseconds(100))
            }
            child.signal(SIGKILL)
            _ = try await child.exit()
            return nil
        }
    }

    static func token(_ arguments: [String], environment: [String: String] = [:]) async throws -> String {
        let created = try await Shell.run(try CLIProcessTests.executable(),
                                    ["token", "create", "--name", "clerk", "--scope", "upload"] + arguments,
                                    environment: environment)
        guard created.status == 0 else { throw CLIProcessError("token create: \(created.stderr)") }
        return created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// POSTs `body` as a sewage upload; returns the upload id.
    static func upload(_ base: String, token: String, body: Data) async throws -> Int {
        let (status, data) = try await ServiceGroupTests.exchange("\(base)/v1/uploads?kind=sewage", method: "POST", token: token, body: body)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        #expect([200, 202].contains(status), "\(object)")
        return try #require(object["id"] as? Int, "\(object)")
    }

    /// Waits (polling the API) until the upload has an outcome; returns its status.
    static func outcome(_ base: String, token: String, id: Int) async throws -> String {
        for _ in 0..<3000 {
            let status = (try? await ServiceGroupTests.request("\(base)/v1/uploads/\(id)", token: token).1["status"] as? String) ?? nil
            if let status, status != "processing", status != "queued" { return status }
            try await Task.sleep(for: .milliseconds(100))
        }
        return "processing"
    }

    /// Plan targets, and waste short of 100 % harmless: the first evaluation fires an alert and
    /// queues its notification.
    static func databaseWithAnAlertDue() async throws -> TestDatabase {
        let db = try await TestDatabase.make()
        try await db.withDatabase { try await TestDatabase.seedDefaultTargets($0) }
        _ = try await db.ingest(.waste, csv: """
            district,period,collected_t,harmless_t,white_pollution_sites,white_pollution_remediated
            城关街道,2026-03,3000,2900,20,20
            """)
        return db
    }

    /// Sends the upload, then waits until its job is `running`. The watching session is its own,
    /// opened before the upload: waiting for one from the tests' gate (24 slots, all held by
    /// other suites on a busy machine) could take longer than the load, and the window would
    /// pass unseen. Nor does the upload run under the gate's two-minute abandonment, which would
    /// cancel the upload mid-request.
    /// Returns the upload's id and whether the job was seen running.
    static func uploadAndWaitForRunningJob(_ address: ServerAddress, upload: @Sendable () async throws -> Int)
        async throws -> (id: Int, sawRunning: Bool) {
        let connection = try await PostgresConnection.connect(
            configuration: try Database.connectionConfiguration(address), id: 1, logger: TestDatabase.logger)
        do {
            let id = try await upload()
            var sawRunning = false
            polling: for _ in 0..<6000 {
                let rows = try await connection.query(
                    "SELECT status FROM envmon.ingest_job WHERE upload_id = \(id)", logger: TestDatabase.logger)
                var status: String?
                for try await value in rows.decode(String.self) { status = value }
                switch status {
                case "running": sawRunning = true; break polling
                // Seen finished before seen running: the window was missed; the caller's
                // expectation then fails with the reason instead of after a minute's wait.
                case .some(let other) where other != "queued": break polling
                default: try await Task.sleep(for: .milliseconds(10))
                }
            }
            try await connection.close()
            return (id, sawRunning)
        } catch {
            try? await connection.close()
            throw error
        }
    }

    @Test("a port another process listens on: serve exits saying so, without blaming the database")
    func portInUse() async throws {
        let db = try await TestDatabase.make()
        let port = try ServiceGroupTests.freePort()
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
        try #require(bound && listen(listener, 4) == 0)

        let result = try await Shell.run(try CLIProcessTests.executable(),
                                         ["serve", "--port", "\(port)", "--database-url", CLIProcessTests.url(db.address)])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot listen on 127.0.0.1:\(port): the address is in use"), "\(result.stderr)")
        #expect(!result.stderr.contains("database went away"), "\(result.stderr)")
    }

    @Test("SIGTERM during a load: serve exits within its grace period, and the upload loads exactly once after a restart")
    func sigtermDuringLoad() async throws {
        let db = try await TestDatabase.make()
        let url = CLIProcessTests.url(db.address)
        let token = try await Self.token(["--database-url", url])
        let body = Data(CLIProcessTests.largeSewage().utf8)

        // A one-second grace period: the load still runs when it ends, so the load is cancelled
        // (before, serve hung here for good with the job `running`).
        let first = try await Server.start(["--database-url", url, "--workers", "1", "--shutdown-grace", "1"])
        let (id, sawRunning) = try await Self.uploadAndWaitForRunningJob(db.address) {
            try await Self.upload(first.base, token: token, body: body)
        }
        #expect(sawRunning, "the job was not seen running before SIGTERM")
        let stopped = try await first.stop(SIGTERM, within: 120)
        let exit = try #require(stopped, "envmon serve was still running 120 s after SIGTERM")
        #expect(exit.status == 0, "\(exit.stderr.suffix(2000))")

        // Nothing is left claimed by the dead process: the job is done or back in the queue.
        let jobs = try await db.rows("SELECT status, attempts::text AS attempts FROM envmon.ingest_job")
        #expect(jobs.count == 1)
        #expect(["queued", "done"].contains(jobs.first?["status"] ?? nil), "\(jobs)")

        let second = try await Server.start(["--database-url", url, "--workers", "1"])
        #expect(try await Self.outcome(second.base, token: token, id: id) == "loaded")
        _ = try await second.stop(SIGTERM, within: 120)
        #expect(try await db.value("SELECT count(*) FROM envmon.sewage_report") == "\(CLIProcessTests.sewageRows)")
        #expect(try await db.value("SELECT count(*) FROM envmon.upload") == "1")
        #expect(try await db.value("SELECT string_agg(status, ',') FROM envmon.ingest_job") == "done")
    }

    @Test("kill -9 of serve while a request body arrives stores nothing; the same upload again loads once")
    func killDuringRequestBody() async throws {
        let db = try await TestDatabase.make()
        let url = CLIProcessTests.url(db.address)
        let token = try await Self.token(["--database-url", url])
        let body = Data(CLIProcessTests.largeSewage().utf8)

        let first = try await Server.start(["--database-url", url, "--workers", "1"])
        let port = try #require(Int(first.base.split(separator: ":").last ?? ""))
        // Half the body, then the process dies.
        let head = "POST /v1/uploads?kind=sewage HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(token)\r\n"
            + "Content-Type: text/csv\r\nContent-Length: \(body.count)\r\n\r\n"
        let socket = try SlowClientTests.connect(port: port, sending: head)
        defer { close(socket) }
        let half = body.prefix(body.count / 2)
        var sent = 0
        half.withUnsafeBytes { raw in
            while sent < raw.count {
                let written = send(socket, raw.baseAddress.map { $0 + sent }, raw.count - sent, Int32(MSG_NOSIGNAL))
                if written <= 0 { break }
                sent += written
            }
        }
        #expect(sent == half.count)
        #expect(try await first.stop(SIGKILL, within: 60) != nil)
        #expect(try await db.value("SELECT count(*) FROM envmon.upload") == "0")
        #expect(try await db.value("SELECT count(*) FROM envmon.ingest_job") == "0")

        let second = try await Server.start(["--database-url", url, "--workers", "1"])
        let id = try await Self.upload(second.base, token: token, body: body)
        #expect(try await Self.outcome(second.base, token: token, id: id) == "loaded")
        let again = try await Self.upload(second.base, token: token, body: body)  // a retry by the clerk
        #expect(again != id)
        _ = try await second.stop(SIGTERM, within: 120)
        #expect(try await db.value("SELECT count(*) FROM envmon.sewage_report") == "\(CLIProcessTests.sewageRows)")
        #expect(try await db.value("SELECT string_agg(status || ':' || coalesce(duplicate_of::text, '-'), ',' ORDER BY id) FROM envmon.upload")
                == "loaded:-,duplicate:\(id)")
        // Both are in the audit trail with the token's holder and the client's address.
        let audit = try await db.rows("SELECT actor || ' ' || origin || ' ' || action || ' ' || subject AS line FROM envmon.audit_event ORDER BY id")
        #expect(audit.compactMap { $0["line"] ?? nil }.filter { $0.hasPrefix("token:") }
                == ["token:clerk http 127.0.0.1 upload.create upload \(id)", "token:clerk http 127.0.0.1 upload.duplicate upload \(again)"])
    }

    @Test("kill -9 of serve in the middle of an SMTP delivery: after a restart every queued email arrives exactly once")
    func killDuringSMTPDelivery() async throws {
        let db = try await Self.databaseWithAnAlertDue()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-smtp-kill-\(UUID().uuidString)")
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

        // A mail server that accepts the connection and never answers: the delivery hangs.
        let silent = try await LoopbackServer.start("smtp_harness.py", ["--mode", "silent"], in: directory)
        defer { silent.stop() }
        let environment = ["ENVMON_SMTP_URL": "smtp://127.0.0.1:\(silent.port)?starttls=never&timeout=600",
                           "ENVMON_MAIL_FROM": "envmon@example.gov.cn"]
        let arguments = ["--database-url", CLIProcessTests.url(db.address), "--workers", "0", "--alerts-dir", directory.path]
        let first = try await Server.start(arguments, environment: environment)
        var connected = false
        for _ in 0..<600 where !connected {
            connected = FileManager.default.fileExists(atPath: silent.inbox.appendingPathComponent("connection-1").path)
            if !connected { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(connected, "serve never connected to the mail server")
        #expect(try await first.stop(SIGKILL, within: 60) != nil)
        #expect(try await db.value("SELECT count(*) FROM envmon.notification_outbox WHERE status = 'delivered'") == "0")
        // Every notification the first process queued (one per alert group) must arrive once.
        let queued = Int(try await db.value("SELECT count(*) FROM envmon.notification_outbox") ?? "") ?? 0
        #expect(queued >= 1)

        // The mail server answers now (same port); serve is started again.
        silent.stop()
        let mail = try await LoopbackServer.start("smtp_harness.py", ["--mode", "plain"], on: silent.port, in: directory)
        defer { mail.stop() }
        let second = try await Server.start(arguments, environment: environment)
        // The dead process's claim on the notification runs out after the outbox lease (120 s);
        // then it is delivered.
        var delivered = 0
        for _ in 0..<2400 where delivered < queued {
            delivered = Int(try await db.value(
                "SELECT count(*) FROM envmon.notification_outbox WHERE status = 'delivered'") ?? "") ?? 0
            if delivered < queued { try await Task.sleep(for: .milliseconds(100)) }
        }
        _ = try await second.stop(SIGTERM, within: 120)
        #expect(delivered == queued)
        #expect(try await db.value("SELECT count(*) FROM envmon.notification_outbox") == "\(queued)")  // nothing queued twice
        let messages = try mail.received()
        #expect(messages.count == queued, "\(messages.count) emails for \(queued) notifications")
        #expect(messages.allSatisfy { ($0["rcpt_tos"] as? [String]) == ["ops@example.gov.cn"] }, "\(messages)")
    }

    @Test("an inbox serve cannot write to: the file is loaded once, stays, is not archived again, and the log says why",
          .enabled(if: geteuid() == 0, "needs root to run serve as another user"))
    func readOnlyInbox() async throws {
        let db = try await TestDatabase.make()
        let inbox = URL(fileURLWithPath: "/tmp/envmon-ro-inbox-\(UUID().uuidString.prefix(8))")
        defer { try? FileManager.default.removeItem(at: inbox) }
        // Every folder exists and belongs to root (0755): `nobody` may read, not move or create.
        for kind in FeedKind.allCases {
            for sub in ["", "done", "failed"] {
                try FileManager.default.createDirectory(at: inbox.appendingPathComponent(kind.rawValue).appendingPathComponent(sub),
                                                        withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
            }
        }
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: inbox.path)
        let file = inbox.appendingPathComponent("sewage/march.csv")
        try Data("plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP1,2026-03,100,99\nP2,2026-03,50,48\n".utf8)
            .write(to: file)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: file.path)

        // A copy of the binary `nobody` can reach (the build folder may be under /root).
        let binary = inbox.appendingPathComponent("envmon")
        try FileManager.default.copyItem(atPath: try CLIProcessTests.executable(), toPath: binary.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: binary.path)
        let port = try ServiceGroupTests.freePort()
        let child = try Shell.spawn("/usr/sbin/runuser", [
            "-u", "nobody", "--", binary.path, "serve", "--port", "\(port)", "--workers", "1",
            "--inbox", inbox.path, "--database-url", CLIProcessTests.url(db.address), "--log-level", "info"])
        let server = Server(child: child, base: "http://127.0.0.1:\(port)")
        try await server.waitUntilReady(attempts: 600)
        var status: String?
        for _ in 0..<600 where status != "loaded" {
            status = try await db.value("SELECT string_agg(status, ',') FROM envmon.upload")
            if status != "loaded" { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(status == "loaded")
        // Several scans later (one a second): still one upload, and the file is where it was.
        try await Task.sleep(for: .seconds(4))
        let stopped = try await server.stop(SIGTERM, within: 120)
        #expect(try await db.value("SELECT count(*) FROM envmon.upload") == "1")
        #expect(try await db.value("SELECT count(*) FROM envmon.sewage_report") == "2")
        #expect(FileManager.default.fileExists(atPath: file.path))
        let log = stopped?.stderr ?? ""
        #expect(log.contains("cannot move inbox file"), "\(log.suffix(3000))")
        #expect(!log.contains("Fatal error"))
    }

    @Test("kill -9 of serve in the middle of an alert evaluation: nothing half-done, and the next serve evaluates once")
    func killDuringEvaluation() async throws {
        let db = try await Self.databaseWithAnAlertDue()
        let arguments = ["--database-url", CLIProcessTests.url(db.address), "--workers", "0"]
        try await TestCluster.withConnection(db.address) { connection in
            // Hold the alert table: the evaluation that serve starts with takes its lock, opens
            // its transaction and then waits here — it is caught in the middle.
            try await connection.query("BEGIN", logger: TestDatabase.logger)
            try await connection.query("LOCK TABLE envmon.alert IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
            let first = try await Server.start(arguments)
            var waiting = false
            for _ in 0..<600 where !waiting {
                let rows = try await TestDatabase.rows("""
                    SELECT count(*)::text AS n FROM pg_stat_activity
                     WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()
                    """, address: db.address)
                waiting = rows.first?["n"] != "0"
                if !waiting { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(waiting, "the evaluation never reached the alert table")
            #expect(try await first.stop(SIGKILL, within: 60) != nil)
            try await connection.query("COMMIT", logger: TestDatabase.logger)
        }
        // Nothing of the interrupted evaluation stays.
        #expect(try await db.value("SELECT count(*) FROM envmon.alert") == "0")
        #expect(try await db.value("SELECT count(*) FROM envmon.notification_outbox") == "0")

        let second = try await Server.start(arguments)
        var firing = "0"
        for _ in 0..<600 where firing == "0" {
            firing = try await db.value("SELECT count(*) FROM envmon.alert WHERE state = 'firing'") ?? "0"
            if firing == "0" { try await Task.sleep(for: .milliseconds(100)) }
        }
        _ = try await second.stop(SIGTERM, within: 120)
        #expect(firing != "0")
        // One alert per fingerprint, and each notification queued once.
        #expect(try await db.value("SELECT count(*) FROM (SELECT fingerprint FROM envmon.alert GROUP BY 1 HAVING count(*) > 1) d") == "0")
        #expect(try await db.value("""
            SELECT count(*) FROM (SELECT receiver, alert_ids FROM envmon.notification_outbox GROUP BY 1, 2 HAVING count(*) > 1) d
            """) == "0")
        #expect(try await db.value("SELECT count(*) FROM envmon.notification_outbox") != "0")
    }

    @Test("PostgreSQL crash-restarted under a load: serve reconnects, /readyz returns to 200, the upload loads exactly once")
    func databaseRestartDuringLoad() async throws {
        // Its own embedded cluster: restarting the shared test cluster would break other tests.
        let home = URL(fileURLWithPath: "/tmp/envmon-crash-\(UUID().uuidString.prefix(8))")
        let cluster = try EmbeddedPostgres(home: home, logger: Logger(label: "crash-test"))
        defer {
            try? cluster.stop()
            try? FileManager.default.removeItem(at: home)
        }
        let environment = ["ENVMON_HOME": home.path, "DATABASE_URL": "", "PGHOST": "", "PGPORT": "", "PGUSER": "", "PGPASSWORD": "", "PGDATABASE": "", "PGSSLMODE": ""]
        let server = try await Server.start(["--workers", "1", "--job-lease", "6"], environment: environment)
        let info = try cluster.connectionInfo()
        let address = ServerAddress(host: info.host, port: info.port, user: info.user, password: info.password,
                                    database: info.database, sslMode: .disable)
        let token = try await Self.token([], environment: environment)
        let body = Data(CLIProcessTests.largeSewage().utf8)
        let (id, sawRunning) = try await Self.uploadAndWaitForRunningJob(address) {
            try await Self.upload(server.base, token: token, body: body)
        }
        #expect(sawRunning, "the job was not seen running before the database stopped")

        try cluster.stop(immediately: true)
        // While the database is down, serve says so instead of hanging or dying.
        var notReady = 0
        for _ in 0..<3000 where notReady == 0 {
            let status = (try? await ServiceGroupTests.request("\(server.base)/readyz").0) ?? 0
            if status == 503 { notReady = status } else { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(notReady == 503)
        #expect(try server.child.poll() == nil, "serve exited when its database went away")
        try cluster.start()

        try await server.waitUntilReady(attempts: 3000)
        #expect(try await Self.outcome(server.base, token: token, id: id) == "loaded")
        let stopped = try await server.stop(SIGTERM, within: 120)
        #expect(stopped?.status == 0)
        let counts = try await TestDatabase.rows("""
            SELECT (SELECT count(*) FROM envmon.sewage_report)::text AS rows,
                   (SELECT count(*) FROM envmon.upload)::text AS uploads,
                   (SELECT string_agg(status, ',') FROM envmon.ingest_job)::text AS jobs
            """, address: address)
        #expect(counts.first?["rows"] == "\(CLIProcessTests.sewageRows)")
        #expect(counts.first?["uploads"] == "1")
        #expect(counts.first?["jobs"] == "done")
    }
}
