import EmbeddedPostgres
import EnvMonDomain
import EnvMonStore
import EnvMonTestSupport
import Foundation
import PostgresNIO
import Testing

/// The `envmon` binary itself, run as a user runs it: real processes, real pipes, real signals.
@Suite("envmon as a process", .timeLimit(.minutes(10)), .temporaryDatabases)
struct CLIProcessTests {
    /// The built `envmon` next to the test bundle (SwiftPM puts both in the same directory).
    static func executable() throws -> String {
        let runner = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        let candidate = runner.deletingLastPathComponent().appendingPathComponent("envmon").path
        guard FileManager.default.isExecutableFile(atPath: candidate) else {
            throw CLIProcessError("no envmon binary at \(candidate) (build it with `swift build`)")
        }
        return candidate
    }

    static func url(_ address: ServerAddress) -> String {
        let password = address.password.map { ":\($0)" } ?? ""
        return "postgres://\(address.user)\(password)@\(address.host):\(address.port)/\(address.database)?sslmode=disable"
    }

    static let sewageRows = 200_000

    /// A sewage feed large enough that its load takes a while (one plant-month per row).
    static func largeSewage(rows: Int = sewageRows) -> String {
        var text = "plant_id,plant_name,district,period,sewage_discharged_m3,sewage_treated_m3\n"
        text.reserveCapacity(rows * 60)
        for index in 0..<rows {
            let year = 1980 + index / 12 % 40
            let month = index % 12 + 1
            let plant = index / 480
            text += "P\(plant),厂\(plant),城关街道,\(year)-\(month < 10 ? "0" : "")\(month),1000,\(900 + index % 100)\n"
        }
        return text
    }

    @Test("a reader that goes away ends `uploads list` quietly with status 141, no backtrace")
    func closedPipe() async throws {
        let db = try await TestDatabase.make()
        for index in 0..<3 {
            _ = try await db.ingest(.sewage, csv: "plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP\(index),2026-03,100,99\n")
        }
        // The pipe's read end is closed before envmon starts, with SIGPIPE ignored (as under many
        // shells, supervisors and Python): every write fails with EPIPE.
        let script = """
            import os, subprocess, sys, signal
            signal.signal(signal.SIGPIPE, signal.SIG_IGN)
            r, w = os.pipe()
            os.close(r)
            p = subprocess.run(sys.argv[1:], stdout=w, stderr=subprocess.PIPE, restore_signals=False)
            sys.stderr.write(p.stderr.decode("utf-8", "replace"))
            print(p.returncode)
            """
        for arguments in [["uploads", "list"], ["uploads", "list", "--json"]] {
            let result = try await Shell.run("/usr/bin/env", ["python3", "-c", script, try Self.executable()] + arguments
                                       + ["--database-url", Self.url(db.address)])
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "141", "\(arguments): \(result.stderr)")
            #expect(!result.stderr.contains("Fatal error"), "\(result.stderr)")
            #expect(!result.stderr.contains("Broken pipe"), "\(result.stderr)")
        }
    }

    @Test("an ingest killed mid-load is finished by running the same command again")
    func killedIngestIsRecoverable() async throws {
        let db = try await TestDatabase.make()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-kill-\(UUID().uuidString).csv")
        try Data(Self.largeSewage().utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let arguments = ["ingest", "--kind", "sewage", file.path, "--database-url", Self.url(db.address)]

        // The load is held on a lock of the fact table (a test session's transaction), so that
        // the kill lands while it runs however fast or slow the machine is; the process is killed
        // once its job is `running`, then the lock is released (the dead command's session ends
        // when it next reads from its closed socket).
        let executable = try Self.executable()
        let holder = try await PostgresConnection.connect(
            configuration: try Database.connectionConfiguration(db.address), id: 1, logger: TestDatabase.logger)
        let held: Result<(Bool, Int32), any Error>
        do {
            _ = try await holder.query("BEGIN", logger: TestDatabase.logger)
            _ = try await holder.query("LOCK TABLE envmon.sewage_report IN ACCESS EXCLUSIVE MODE", logger: TestDatabase.logger)
            let child = try Shell.spawn(executable, arguments)
            var killedWhileProcessing = false
            for _ in 0..<6000 {
                if let finished = try child.poll() {
                    Issue.record("the ingest finished before it could be killed (status \(finished.status)): \(finished.stderr)")
                    break
                }
                // The command has archived the file and claimed its job: it is loading.
                if try await db.value("SELECT status FROM envmon.ingest_job ORDER BY id DESC LIMIT 1") == "running" {
                    child.signal(SIGKILL)
                    killedWhileProcessing = true
                    break
                }
                try await Task.sleep(for: .milliseconds(50))
            }
            if !killedWhileProcessing { child.signal(SIGKILL) }
            let killed = try await child.exit()
            _ = try await holder.query("ROLLBACK", logger: TestDatabase.logger)
            held = .success((killedWhileProcessing, killed.status))
        } catch {
            held = .failure(error)
        }
        try? await holder.close()
        let (killedWhileProcessing, killed) = try held.get()
        #expect(killedWhileProcessing)
        #expect(killed == 128 + SIGKILL)
        #expect(try await db.value("SELECT count(*) FROM envmon.sewage_report") == "0")

        // The same command again takes the interrupted upload over and loads every row once.
        let again = try await Shell.run(try Self.executable(), arguments)
        #expect(again.status == 0, "\(again.stderr)")
        let outcome = try await db.rows("SELECT status, rows_loaded, rows_rejected, error FROM envmon.upload")
        #expect(try await db.value("SELECT count(*) FROM envmon.sewage_report") == "\(Self.sewageRows)", "\(outcome)")
        #expect(try await db.value("SELECT count(*) FROM envmon.upload WHERE status = 'loaded'") == "1")
        #expect(try await db.value("SELECT count(*) FROM envmon.upload WHERE status = 'processing'") == "0")
        let listing = try await Shell.run(try Self.executable(), ["uploads", "list", "--database-url", Self.url(db.address)])
        #expect(listing.stdout.contains("loaded"), "\(listing.stdout)")
    }

    /// Kill points as fractions of one uninterrupted run: before and while archiving, while
    /// loading (COPY), near the end (aggregates, completion).
    static let killPoints = [0.02, 0.15, 0.35, 0.55, 0.75, 0.9]

    @Test("kill -9 of `envmon ingest` at any point: the same command again loads exactly one copy")
    func killMatrix() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-matrix-\(UUID().uuidString).csv")
        let rows = 60_000
        let text = Self.largeSewage(rows: rows)
        try Data(text.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let envmon = try Self.executable()

        // One uninterrupted run gives the time scale of this machine, now.
        let reference = try await TestDatabase.make()
        let started = ContinuousClock.now
        let whole = try await Shell.run(envmon, ["ingest", "--kind", "sewage", file.path, "--database-url", Self.url(reference.address)])
        let duration = ContinuousClock.now - started
        #expect(whole.status == 0, "\(whole.stderr)")

        var outcomes: [String] = []
        for point in Self.killPoints {
            let db = try await TestDatabase.make()
            let arguments = ["ingest", "--kind", "sewage", file.path, "--database-url", Self.url(db.address)]
            let child = try Shell.spawn(envmon, arguments)
            let deadline = ContinuousClock.now + duration * point
            var finished: Shell.Result?
            while ContinuousClock.now < deadline, finished == nil {
                finished = try child.poll()
                if finished == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            let killed: Shell.Result
            if let finished {
                killed = finished  // this run was faster than the reference: nothing to kill
            } else {
                child.signal(SIGKILL)
                killed = try await child.exit()
            }
            let phase = try await db.value("SELECT coalesce(max(status), 'nothing stored') FROM envmon.upload") ?? "?"
            outcomes.append("\(point): \(killed.status == 128 + SIGKILL ? "killed" : "finished") at \(phase)")

            let again = try await Shell.run(envmon, arguments)
            #expect(again.status == 0, "\(point): \(again.stderr)")
            #expect(try await db.value("SELECT count(*) FROM envmon.sewage_report") == "\(rows)", "\(point)")
            #expect(try await db.value("SELECT count(*) FROM envmon.upload WHERE status = 'loaded'") == "1", "\(point)")
            #expect(try await db.value("SELECT count(*) FROM envmon.upload WHERE status IN ('processing', 'queued')") == "0", "\(point)")
            #expect(try await db.value("SELECT count(*) FROM envmon.ingest_job WHERE status <> 'done'") == "0", "\(point)")
            // Archived bytes are whole: exactly one copy of the file.
            #expect(try await db.value("""
                SELECT sum(length(c.data))::text FROM envmon.upload_chunk c JOIN envmon.upload u ON u.id = c.upload_id
                 WHERE u.status = 'loaded'
                """) == "\(text.utf8.count)", "\(point)")
        }
        // Shown with --verbose: which phase each kill met.
        print("kill matrix (\(duration)): \(outcomes.joined(separator: "; "))")
    }

    @Test("standard input through a pipe, and a FIFO, are read to their end and loaded whole")
    func pipesAndFIFOs() async throws {
        let db = try await TestDatabase.make()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-pipe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var text = "plant_id,period,sewage_discharged_m3,sewage_treated_m3\n"
        for plant in 0..<2_000 { text += "P\(plant),2026-03,1000,\(900 + plant % 100)\n" }
        let file = directory.appendingPathComponent("sewage.csv")
        try Data(text.utf8).write(to: file)
        let second = directory.appendingPathComponent("sewage2.csv")
        try Data(text.replacingOccurrences(of: "2026-03", with: "2026-04").utf8).write(to: second)
        let envmon = try Self.executable()
        let url = Self.url(db.address)

        let piped = try await Shell.run("/bin/bash", ["-c", "cat \"$1\" | \"$2\" ingest --kind sewage - --database-url \"$3\"",
                                                "sh", file.path, envmon, url])
        #expect(piped.status == 0, "\(piped.stderr)")
        let fifo = directory.appendingPathComponent("feed.fifo").path
        let fromFIFO = try await Shell.run("/bin/bash", ["-c", "mkfifo \"$1\" && (cat \"$2\" > \"$1\" &) && \"$3\" ingest --kind sewage \"$1\" --database-url \"$4\"",
                                                   "sh", fifo, second.path, envmon, url])
        #expect(fromFIFO.status == 0, "\(fromFIFO.stderr)")
        let uploads = try await db.rows("SELECT file_name, status, rows_loaded::text AS n, size_bytes::text AS size FROM envmon.upload ORDER BY id")
        #expect(uploads.map { $0["status"] ?? nil } == ["loaded", "loaded"], "\(uploads)")
        #expect(uploads.map { $0["n"] ?? nil } == ["2000", "2000"])
        #expect(uploads.first?["file_name"] == "stdin")
        #expect(uploads.allSatisfy { $0["size"] == "\(text.utf8.count)" }, "\(uploads)")
        // The archive holds every byte (before, /dev/stdin archived 0 bytes of a recorded 1404).
        #expect(try await db.value("SELECT sum(length(data))::text FROM envmon.upload_chunk") == "\(2 * text.utf8.count)")
    }

    @Test("a big file on a terminal shows a progress line (bytes, lines, rates) on stderr; none without a terminal or with --quiet")
    func progressLineOnATerminal() async throws {
        let db = try await TestDatabase.make()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-progress-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        // 9 MiB of emissions (the line starts above 8 MiB): 150,000 hourly readings.
        var text = "enterprise_id,outlet_id,pollutant,measured_at,value,limit,enterprise_name\n"
        let padding = String(repeating: "有限公司", count: 2)
        for row in 0..<150_000 {
            text += "E\(row % 50),DA001,SO2,2025-\(String(format: "%02d", row / 36_000 % 12 + 1))-\(String(format: "%02d", row / 1_200 % 28 + 1)) "
                + "\(String(format: "%02d", row / 50 % 24)):00,\(20 + row % 7),35,城东热电\(padding)\n"
        }
        let file = directory.appendingPathComponent("emissions.csv")
        try Data(text.utf8).write(to: file)
        #expect(text.utf8.count > 9 << 20)
        let envmon = try Self.executable()
        let url = Self.url(db.address)
        // script(1) gives the command a terminal; what it wrote there comes back on stdout.
        let onTerminal = try await Shell.run("/usr/bin/script", ["-qec", "\"$0\" ingest --kind emissions \"$1\" --database-url \"$2\"".replacingOccurrences(of: "$0", with: envmon)
            .replacingOccurrences(of: "$1", with: file.path).replacingOccurrences(of: "$2", with: url), "/dev/null"])
        #expect(onTerminal.status == 0, "\(onTerminal.stdout.suffix(2000)) \(onTerminal.stderr)")
        let progress = onTerminal.stdout.components(separatedBy: "\r").filter { $0.contains("ingesting: ") }
        #expect(!progress.isEmpty, "\(onTerminal.stdout.suffix(2000))")
        #expect(progress.contains { $0.contains(" MiB") && $0.contains(" lines") }, "\(progress.suffix(3))")
        // Not a terminal: the report only. --quiet on a terminal: no progress either.
        let copy = directory.appendingPathComponent("again.csv")
        try Data(text.replacingOccurrences(of: ",35,", with: ",36,").utf8).write(to: copy)
        let piped = try await Shell.run(envmon, ["ingest", "--kind", "emissions", copy.path, "--database-url", url])
        #expect(piped.status == 0)
        #expect(!piped.stderr.contains("ingesting: ") && !piped.stdout.contains("ingesting: "))
        let third = directory.appendingPathComponent("third.csv")
        try Data(text.replacingOccurrences(of: ",35,", with: ",37,").utf8).write(to: third)
        let quiet = try await Shell.run("/usr/bin/script", ["-qec", "\(envmon) ingest --quiet --kind emissions \(third.path) --database-url '\(url)'", "/dev/null"])
        #expect(quiet.status == 0, "\(quiet.stdout.suffix(1000))")
        #expect(!quiet.stdout.contains("ingesting: "))
    }

    @Test("state changes made with the CLI are in `envmon audit`, newest first, with the local account")
    func auditTrail() async throws {
        let db = try await TestDatabase.make()
        let url = Self.url(db.address)
        let envmon = try Self.executable()
        let created = try await Shell.run(envmon, ["token", "create", "--name", "ops", "--scope", "read", "--database-url", url])
        #expect(created.status == 0, "\(created.stderr)")
        let revoked = try await Shell.run(envmon, ["token", "revoke", "ops", "--database-url", url])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let listed = try await Shell.run(envmon, ["audit", "--since", "1h", "--json", "--database-url", url])
        #expect(listed.status == 0, "\(listed.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(listed.stdout.utf8)) as? [String: Any]
        let events = try #require(object?["events"] as? [[String: Any]])
        #expect(events.compactMap { $0["action"] as? String } == ["token.revoke", "token.create"])
        let user = ProcessInfo.processInfo.userName
        #expect(events.allSatisfy { $0["actor"] as? String == "cli:\(user)" }, "\(events)")
        #expect(events.allSatisfy { ($0["summary"] as? String) == "ops (read)" }, "\(events)")
        // The secret is never in the trail.
        let secret = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(!listed.stdout.contains(secret))
        let text = try await Shell.run(envmon, ["audit", "--actor", "cli:\(user)", "--database-url", url])
        #expect(text.stdout.contains("token.create token"), "\(text.stdout)")
        let none = try await Shell.run(envmon, ["audit", "--actor", "nobody", "--database-url", url])
        #expect(none.status == 0)
        #expect(none.stderr.contains("no audit events"))
        let bad = try await Shell.run(envmon, ["audit", "--since", "yesterday-ish", "--database-url", url])
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("bad --since"))
    }

    @Test("`db backup` writes a private, complete dump; `db restore` brings every row back into an empty database, once")
    func backupAndRestore() async throws {
        let db = try await TestDatabase.make()
        for month in ["2026-03", "2026-04"] {
            _ = try await db.ingest(.sewage, csv: "plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP1,\(month),100,99\nP2,\(month),50,48\n")
        }
        let envmon = try Self.executable()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-backup-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("envmon.dump").path

        let backup = try await Shell.run(envmon, ["db", "backup", file, "--database-url", Self.url(db.address)])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(backup.stdout.contains("2 uploads"), "\(backup.stdout)")
        let mode = (try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? NSNumber)?.intValue
        #expect(mode == 0o600)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["envmon.dump"])  // no partial left
        let again = try await Shell.run(envmon, ["db", "backup", file, "--database-url", Self.url(db.address)])
        #expect(again.status == 1)
        #expect(again.stderr.contains("exists"), "\(again.stderr)")

        let counts = """
            SELECT (SELECT count(*) FROM envmon.sewage_report)::text || '/' || (SELECT count(*) FROM envmon.upload)::text
                   || '/' || (SELECT sum(length(data)) FROM envmon.upload_chunk)::text
                   || '/' || (SELECT count(*) FROM envmon.audit_event)::text AS n
            """
        let before = try await db.rows(counts).first?["n"] ?? nil

        var empty = try await TestDatabase.makeEmpty()
        let restore = try await Shell.run(envmon, ["db", "restore", file, "--database-url", Self.url(empty)])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try await TestDatabase.rows(counts, address: empty).first?["n"] == before)
        let plan = try await TestDatabase.rows("SELECT count(*)::text AS n FROM analytics.sewage_treatment", address: empty)
        #expect(plan.first?["n"] != "0")
        // The same file again into a database that has data: refused, nothing doubled.
        let twice = try await Shell.run(envmon, ["db", "restore", file, "--database-url", Self.url(empty)])
        #expect(twice.status == 1)
        #expect(twice.stderr.contains("already has an envmon schema"), "\(twice.stderr)")
        #expect(try await TestDatabase.rows(counts, address: empty).first?["n"] == before)

        // A damaged file restores nothing.
        let damaged = directory.appendingPathComponent("damaged.dump").path
        let bytes = try Data(contentsOf: URL(fileURLWithPath: file))
        try bytes.prefix(bytes.count / 2).write(to: URL(fileURLWithPath: damaged))
        empty = try await TestDatabase.makeEmpty()
        let broken = try await Shell.run(envmon, ["db", "restore", damaged, "--database-url", Self.url(empty)])
        #expect(broken.status == 1)
        #expect(broken.stderr.contains("nothing was restored"), "\(broken.stderr)")
        #expect(try await TestDatabase.rows("SELECT to_regnamespace('envmon')::text AS n", address: empty).first?["n"] == .some(nil))
    }

    @Test("a file size limit met while spooling standard input is a one-line error; nothing is stored")
    func fileSizeLimit() async throws {
        let db = try await TestDatabase.make()
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-ulimit-\(UUID().uuidString).csv")
        try Data(Self.largeSewage(rows: 5_000).utf8).write(to: file)  // about 300 KB
        defer { try? FileManager.default.removeItem(at: file) }
        let result = try await Shell.run("/bin/bash", [
            "-c", "ulimit -f 64; cat \"$1\" | \"$2\" ingest --kind sewage - --database-url \"$3\"",
            "sh", file.path, try Self.executable(), Self.url(db.address)])
        #expect(result.status == 1, "\(result.stderr)")
        #expect(result.stderr.contains("cannot keep a temporary copy"), "\(result.stderr)")
        #expect(result.stderr.contains("nothing was stored"))
        #expect(!result.stderr.contains("Fatal error"))
        #expect(try await db.value("SELECT count(*) FROM envmon.upload") == "0")
    }

    @Test("a directory is a one-line error naming it")
    func directory() async throws {
        let db = try await TestDatabase.make()
        let result = try await Shell.run(try Self.executable(), ["ingest", "--kind", "sewage", NSTemporaryDirectory(),
                                                           "--database-url", Self.url(db.address)])
        #expect(result.status == 1)
        #expect(result.stderr.contains("directory, not a file"), "\(result.stderr)")
        #expect(!result.stderr.contains("NSCocoaErrorDomain"))
    }
}

struct CLIProcessError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
