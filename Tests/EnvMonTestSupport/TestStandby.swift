import EmbeddedPostgres
public import EnvMonStore
public import Foundation
import Logging
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

/// A PostgreSQL primary and its streaming standby, private to one test: the primary is an
/// embedded cluster made by `EmbeddedPostgres` (as the tests' shared cluster and `envmon serve`
/// make theirs), the standby is made from it as an operator makes one (`pg_basebackup -R -X
/// stream` over a replication connection), on a port and a socket folder of its own, and run
/// with the machine's PostgreSQL binaries (as the `postgres` user when the tests run as root).
///
/// Why not a standby of the shared test cluster: every `TestDatabase.make()` copies the
/// migrated template through the WAL, so during a full test run the shared cluster writes
/// gigabytes of WAL, and a standby replaying all of it on a two-core machine falls minutes
/// behind (and slows every other test down). A private primary has only the test's own writes.
///
/// The embedded cluster needs nothing added for this: initdb's defaults are `wal_level=replica`
/// and `max_wal_senders=10`, its pg_hba.conf has `replication` lines for the socket and
/// 127.0.0.1 (scram-sha-256), and its user is the superuser. `create()` checks them all the same.
///
/// ```swift
/// try await TestStandby.with { standby in
///     let db = try await standby.makeDatabase()          // migrated, on the primary
///     let replica = standby.address(database: db.name)   // for --read-url
///     try await standby.pauseReplay()
/// }                                                      // both stopped and deleted, also on failure
/// ```
public struct TestStandby: Sendable {
    /// `/tmp/envmon-standby-<pid>-<random>`: the primary's home (`pg/`, `run/`), the standby's
    /// `standby/` (data, socket folder, log).
    public let home: URL
    /// The standby's port.
    public let port: Int
    /// The primary's address (its `postgres` database).
    public let primary: ServerAddress
    let binDirectory: URL
    let runAs: String?

    public var dataDirectory: URL { home.appendingPathComponent("standby/data") }
    public var socketDirectory: URL { home.appendingPathComponent("standby/run") }
    public var logFile: URL { home.appendingPathComponent("standby/postgres.log") }

    /// Makes a primary and its standby, runs `body`, then stops both and deletes their files —
    /// also when `body` throws or they could not be made.
    public static func with<T: Sendable>(_ body: @Sendable (TestStandby) async throws -> T) async throws -> T {
        await sweepAbandoned()
        let random = UUID().uuidString.lowercased().prefix(8)
        let home = URL(fileURLWithPath: "/tmp/envmon-standby-\(getpid())-\(random)")
        do {
            let standby = try await create(home: home)
            let result = try await body(standby)
            await remove(home)
            return result
        } catch {
            await remove(home)
            throw error
        }
    }

    /// Where to connect to the standby's copy of `database` (TCP on 127.0.0.1, the primary's user).
    public func address(database: String) -> ServerAddress {
        var address = primary
        address.port = port
        address.database = database
        return address
    }

    /// A new database on the primary with envmon's schema and the default plan targets.
    public func makeDatabase() async throws -> TestDatabase {
        let name = TestCluster.databaseName(prefix: "r")
        try await TestCluster.withConnection(primary) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: TestDatabase.logger)
        }
        var address = primary
        address.database = name
        let db = TestDatabase(address: address, name: name)
        try await db.withDatabase { database in
            try await Migrator(database: database).migrate()
            try await TestDatabase.seedDefaultTargets(database)
        }
        return db
    }

    // MARK: Replay

    /// `pg_wal_replay_pause()`, and waits until replay has stopped.
    public func pauseReplay() async throws {
        try await sql("SELECT pg_wal_replay_pause()")
        try await waitFor("replay to pause", seconds: 120) {
            try await value("pg_get_wal_replay_pause_state()") == "paused"
        }
    }

    /// `pg_wal_replay_resume()`.
    public func resumeReplay() async throws {
        try await sql("SELECT pg_wal_replay_resume()")
    }

    /// Waits until the standby has replayed everything the primary had written when called.
    public func waitUntilCaughtUp(seconds: Int = 120) async throws {
        let target = try await Self.value("pg_current_wal_lsn()", address: primary) ?? ""
        try await waitFor("the standby to replay up to \(target)", seconds: seconds) {
            try await value("pg_last_wal_replay_lsn() >= '\(target)'::pg_lsn") == "true"
        }
    }

    /// Stops the standby (`pg_ctl stop -m fast`): it no longer answers.
    public func stop() async throws {
        let result = try await Self.tool("pg_ctl", ["stop", "-w", "-t", "120", "-m", "fast", "-D", dataDirectory.path],
                                         bin: binDirectory, runAs: runAs)
        guard result.status == 0 else { throw HarnessFailure(message: "pg_ctl stop of the standby failed: \(result.stderr)") }
    }

    /// The value of the expression `sql`, as text, on the standby's `postgres` database.
    public func value(_ sql: String) async throws -> String? {
        try await Self.value(sql, address: address(database: "postgres"))
    }

    // MARK: Making and removing

    /// The primary (initdb, start), then pg_basebackup from it and start the copy in recovery;
    /// fails with the standby's log.
    private static func create(home: URL) async throws -> TestStandby {
        let logger = Logger(label: "envmon.tests.standby")
        let cluster = try EmbeddedPostgres(home: home, logger: logger)
        let info = try await offThread { try cluster.start() }
        let primary = ServerAddress(host: info.host, port: info.port, user: info.user, password: info.password,
                                    database: "postgres", sslMode: .disable)
        let standby = TestStandby(home: home, port: try closedLoopbackPort(), primary: primary,
                                  binDirectory: cluster.binDirectory, runAs: geteuid() == 0 ? "postgres" : nil)
        try await standby.checkPrimary()
        try FileManager.default.createDirectory(at: standby.socketDirectory, withIntermediateDirectories: true)
        let folder = standby.socketDirectory.deletingLastPathComponent()
        _ = chmod(folder.path, 0o700)
        try standby.handOver(folder)
        try standby.handOver(standby.socketDirectory)
        let backup = try await tool("pg_basebackup", [
            "-h", primary.host, "-p", "\(primary.port)", "-U", primary.user, "-D", standby.dataDirectory.path,
            "-R", "-X", "stream", "-c", "fast", "--no-sync",
        ], bin: standby.binDirectory, runAs: standby.runAs, environment: ["PGPASSWORD": primary.password ?? ""])
        guard backup.status == 0 else { throw HarnessFailure(message: "pg_basebackup failed: \(backup.stderr)") }
        // A hot standby needs at least the primary's max_connections (the embedded cluster sets
        // it on its command line, which pg_basebackup does not copy).
        let connections = try await Self.value("current_setting('max_connections')", address: primary) ?? "300"
        let options = "-p \(standby.port) -k \(standby.socketDirectory.path) -c listen_addresses=127.0.0.1 -c max_connections=\(connections)"
        let start = try await tool("pg_ctl", ["start", "-w", "-t", "120", "-D", standby.dataDirectory.path,
                                              "-l", standby.logFile.path, "-o", options],
                                   bin: standby.binDirectory, runAs: standby.runAs)
        guard start.status == 0 else {
            let log = (try? String(contentsOf: standby.logFile, encoding: .utf8))?.suffix(2000) ?? ""
            throw HarnessFailure(message: "the standby did not start: \(start.stderr) \(log)")
        }
        try await standby.waitFor("the standby to accept connections in recovery", seconds: 120) {
            (try? await standby.value("pg_is_in_recovery()")) == "true"
        }
        return standby
    }

    /// What a primary needs to stream to a standby.
    private func checkPrimary() async throws {
        let level = try await Self.value("current_setting('wal_level')", address: primary)
        let senders = Int(try await Self.value("current_setting('max_wal_senders')", address: primary) ?? "") ?? 0
        guard level == "replica" || level == "logical", senders > 0 else {
            throw HarnessFailure(message: "the primary cannot stream to a standby (wal_level \(level ?? "?"), max_wal_senders \(senders))")
        }
    }

    /// Stops the standby and the primary at once (crash stops: both are thrown away) and
    /// deletes their files.
    private static func remove(_ home: URL) async {
        guard let bin = try? EmbeddedPostgres.findBinaries() else { return }
        let runAs = geteuid() == 0 ? "postgres" : nil
        for data in ["standby/data", "pg/data"] {
            let path = home.appendingPathComponent(data).path
            guard FileManager.default.fileExists(atPath: path + "/postmaster.pid") else { continue }
            _ = try? await tool("pg_ctl", ["stop", "-w", "-t", "60", "-m", "immediate", "-D", path], bin: bin, runAs: runAs)
        }
        try? FileManager.default.removeItem(at: home)
    }

    /// Pairs left by test processes that no longer run (killed mid-test): stopped and deleted.
    static func sweepAbandoned() async {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in names where name.hasPrefix("envmon-standby-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 4, let pid = pid_t(parts[2]), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            await remove(URL(fileURLWithPath: "/tmp/\(name)"))
        }
    }

    // MARK: Helpers

    private func sql(_ text: String) async throws {
        try await TestCluster.withConnection(address(database: "postgres")) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: text), logger: TestDatabase.logger)
        }
    }

    static func value(_ sql: String, address: ServerAddress) async throws -> String? {
        try await TestCluster.withConnection(address) { connection in
            for try await text in try await connection.query(PostgresQuery(unsafeSQL: "SELECT (\(sql))::text"), logger: TestDatabase.logger)
                .decode(String?.self) {
                return text
            }
            return nil
        }
    }

    private func waitFor(_ what: String, seconds: Int, _ condition: @Sendable () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessFailure(message: "gave up waiting \(seconds) s for \(what)")
    }

    /// A PostgreSQL program, as the user that owns the clusters, without the caller's libpq
    /// settings; on a thread of its own.
    private static func tool(_ name: String, _ arguments: [String], bin: URL, runAs: String?,
                             environment: [String: String] = [:]) async throws -> Shell.Result {
        let (executable, all) = command(name, arguments, bin: bin, runAs: runAs)
        return try await Shell.run(executable, all, environment: environment, unsetting: EmbeddedPostgres.libpqVariables)
    }

    private static func command(_ name: String, _ arguments: [String], bin: URL, runAs: String?) -> (String, [String]) {
        let path = bin.appendingPathComponent(name).path
        guard let runAs else { return (path, arguments) }
        // From `/`: the programs refuse a working folder their user cannot read.
        return ("/usr/sbin/runuser", ["-u", runAs, "--", "/bin/sh", "-c", "cd / && exec \"$0\" \"$@\"", path] + arguments)
    }

    private func handOver(_ url: URL) throws {
        guard let runAs, let pw = getpwnam(runAs) else { return }
        guard chown(url.path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
            throw HarnessFailure(message: "cannot hand \(url.path) to \(runAs): \(String(cString: strerror(errno)))")
        }
    }

    /// `body` on a thread of its own (initdb and pg_ctl block while they run).
    private static func offThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
