import EmbeddedPostgres
public import EnvMonStore
public import Foundation
import PostgresNIO
#if canImport(Glibc)
import Glibc
#endif

/// A streaming standby of the tests' cluster, made as an operator makes one
/// (`pg_basebackup -R -X stream` over a replication connection to the primary), on a port and
/// a socket folder of its own, started and stopped with the machine's PostgreSQL binaries (as
/// the `postgres` user when the tests run as root, like `EmbeddedPostgres`).
///
/// The tests' cluster needs nothing added for this: initdb's defaults are `wal_level=replica`
/// and `max_wal_senders=10`, its pg_hba.conf has `replication` lines for the socket and
/// 127.0.0.1 (scram-sha-256), and its user is the superuser. `make()` checks them all the same.
///
/// ```swift
/// try await TestStandby.with { standby in
///     let url = standby.url(database: db.name)      // for --read-url
///     try await standby.pauseReplay()
/// }                                                  // stopped and deleted, also on failure
/// ```
public struct TestStandby: Sendable {
    /// `/tmp/envmon-standby-<pid>-<random>`: data, socket folder, log.
    public let home: URL
    public let port: Int
    /// The primary's address (its `postgres` database).
    public let primary: ServerAddress
    let binDirectory: URL
    let runAs: String?

    public var dataDirectory: URL { home.appendingPathComponent("data") }
    public var socketDirectory: URL { home.appendingPathComponent("run") }
    public var logFile: URL { home.appendingPathComponent("postgres.log") }

    /// Makes a standby, runs `body` with it, then stops it and deletes its files — also when
    /// `body` throws or the standby could not be made.
    public static func with<T: Sendable>(_ body: @Sendable (TestStandby) async throws -> T) async throws -> T {
        let standby = try await prepare()
        do {
            try await standby.create()
            let result = try await body(standby)
            try await standby.remove()
            return result
        } catch {
            try? await standby.remove()
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
        let result = try await pgctl(["stop", "-w", "-t", "120", "-m", "fast", "-D", dataDirectory.path])
        guard result.status == 0 else { throw HarnessFailure(message: "pg_ctl stop of the standby failed: \(result.stderr)") }
    }

    /// The value of the expression `sql`, as text, on the standby's `postgres` database.
    public func value(_ sql: String) async throws -> String? {
        try await Self.value(sql, address: address(database: "postgres"))
    }

    // MARK: Making and removing

    private static func prepare() async throws -> TestStandby {
        sweepAbandoned()
        var primary = try await TestCluster.shared.address()
        primary.database = "postgres"
        let random = UUID().uuidString.lowercased().prefix(8)
        let home = URL(fileURLWithPath: "/tmp/envmon-standby-\(getpid())-\(random)")
        return TestStandby(home: home, port: try closedLoopbackPort(), primary: primary,
                           binDirectory: try EmbeddedPostgres.findBinaries(), runAs: geteuid() == 0 ? "postgres" : nil)
    }

    /// pg_basebackup from the tests' cluster, then start; fails with the standby's log.
    private func create() async throws {
        let standby = self
        try await checkPrimary()
        try FileManager.default.createDirectory(at: socketDirectory, withIntermediateDirectories: true)
        _ = chmod(home.path, 0o700)
        try handOver(home)
        try handOver(socketDirectory)
        let backup = try await tool("pg_basebackup", [
            "-h", primary.host, "-p", "\(primary.port)", "-U", primary.user, "-D", dataDirectory.path,
            "-R", "-X", "stream", "-c", "fast", "--no-sync",
        ], environment: ["PGPASSWORD": primary.password ?? ""])
        guard backup.status == 0 else { throw HarnessFailure(message: "pg_basebackup failed: \(backup.stderr)") }
        // A hot standby needs at least the primary's max_connections (the tests' cluster sets
        // it on its command line, which pg_basebackup does not copy).
        let connections = try await Self.value("current_setting('max_connections')", address: primary) ?? "300"
        let options = "-p \(port) -k \(socketDirectory.path) -c listen_addresses=127.0.0.1 -c max_connections=\(connections)"
        let start = try await pgctl(["start", "-w", "-t", "120", "-D", dataDirectory.path, "-l", logFile.path, "-o", options])
        guard start.status == 0 else {
            let log = (try? String(contentsOf: logFile, encoding: .utf8))?.suffix(2000) ?? ""
            throw HarnessFailure(message: "the standby did not start: \(start.stderr) \(log)")
        }
        try await waitFor("the standby to accept connections in recovery", seconds: 120) {
            (try? await standby.value("pg_is_in_recovery()")) == "true"
        }
    }

    /// What a primary needs to stream to a standby.
    private func checkPrimary() async throws {
        let level = try await Self.value("current_setting('wal_level')", address: primary)
        let senders = Int(try await Self.value("current_setting('max_wal_senders')", address: primary) ?? "") ?? 0
        guard level == "replica" || level == "logical", senders > 0 else {
            throw HarnessFailure(message: "the tests' cluster cannot stream to a standby (wal_level \(level ?? "?"), max_wal_senders \(senders))")
        }
    }

    /// Stops the standby at once (a crash stop: it is thrown away) and deletes its files.
    private func remove() async throws {
        if FileManager.default.fileExists(atPath: dataDirectory.appendingPathComponent("postmaster.pid").path) {
            _ = try? await pgctl(["stop", "-w", "-t", "60", "-m", "immediate", "-D", dataDirectory.path])
        }
        try FileManager.default.removeItem(at: home)
    }

    /// Standbys left by test processes that no longer run (killed mid-test): stopped and deleted.
    static func sweepAbandoned() {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/tmp")) ?? []
        for name in names where name.hasPrefix("envmon-standby-") {
            let parts = name.split(separator: "-")
            guard parts.count >= 4, let pid = pid_t(parts[2]), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            let home = URL(fileURLWithPath: "/tmp/\(name)")
            let data = home.appendingPathComponent("data").path
            if let bin = try? EmbeddedPostgres.findBinaries() {
                let ctl = bin.appendingPathComponent("pg_ctl").path
                let arguments = ["stop", "-w", "-m", "immediate", "-D", data]
                if geteuid() == 0 {
                    _ = try? Shell.run("/usr/sbin/runuser", ["-u", "postgres", "--", ctl] + arguments)
                } else {
                    _ = try? Shell.run(ctl, arguments)
                }
            }
            try? FileManager.default.removeItem(at: home)
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

    private func pgctl(_ arguments: [String]) async throws -> Shell.Result {
        try await tool("pg_ctl", arguments)
    }

    /// A PostgreSQL program, as the user that owns the clusters, without the caller's libpq settings.
    private func tool(_ name: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Shell.Result {
        let path = binDirectory.appendingPathComponent(name).path
        if let runAs {
            // From `/`: the programs refuse a working folder their user cannot read.
            return try await Shell.run("/usr/sbin/runuser", ["-u", runAs, "--", "/bin/sh", "-c", "cd / && exec \"$0\" \"$@\"", path] + arguments,
                                       environment: environment, unsetting: EmbeddedPostgres.libpqVariables)
        }
        return try await Shell.run(path, arguments, environment: environment, unsetting: EmbeddedPostgres.libpqVariables)
    }

    private func handOver(_ url: URL) throws {
        guard let runAs, let pw = getpwnam(runAs) else { return }
        guard chown(url.path, pw.pointee.pw_uid, pw.pointee.pw_gid) == 0 else {
            throw HarnessFailure(message: "cannot hand \(url.path) to \(runAs): \(String(cString: strerror(errno)))")
        }
    }
}
