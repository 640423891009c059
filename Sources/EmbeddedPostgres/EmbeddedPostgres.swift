public import Foundation
public import Logging

#if canImport(Glibc)
import Glibc
#endif

/// A private PostgreSQL cluster under `$ENVMON_HOME/pg`, made and run with the machine's
/// PostgreSQL binaries.
///
/// The cluster listens on a unix socket and on 127.0.0.1 at a free port, with scram-sha-256
/// password authentication (the generated password lives in a 0600 file). Run as root, initdb
/// and postgres run as the `postgres` user, because initdb refuses root; when that user cannot
/// enter `$ENVMON_HOME` the cluster is kept in a folder it can reach, and `layout.relocatedReason`
/// says why.
///
/// ```swift
/// let cluster = try EmbeddedPostgres(home: URL(fileURLWithPath: ".envmon"), logger: logger)
/// let info = try cluster.start()   // idempotent
/// print(info.url)                  // postgres://envmon:…@127.0.0.1:54321/envmon
/// ```
public struct EmbeddedPostgres: Sendable {
    public static let user = "envmon"
    public static let database = "envmon"

    public let layout: ClusterLayout
    public let binDirectory: URL
    let runAs: String?
    let logger: Logger

    /// Prepares (does not start) the cluster under `home`.
    public init(home: URL, logger: Logger) throws(EmbeddedPostgresError) {
        self.logger = logger
        self.binDirectory = try Self.findBinaries()
        self.runAs = geteuid() == 0 ? "postgres" : nil
        if let runAs, getpwnam(runAs) == nil {
            throw .init("running as root, but there is no '\(runAs)' user to run PostgreSQL as; install the postgresql package (apt-get install -y postgresql)")
        }
        self.layout = try ClusterLayout.resolve(home: home, runAs: runAs)
    }

    /// The machine's PostgreSQL binaries: `pg_config --bindir`, else the newest
    /// `/usr/lib/postgresql/*/bin` that holds initdb.
    public static func findBinaries() throws(EmbeddedPostgresError) -> URL {
        var candidates: [URL] = []
        if let output = try? Shell.run("/bin/sh", ["-c", "pg_config --bindir 2>/dev/null"]),
           output.status == 0 {
            let path = output.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            if !path.isEmpty { candidates.append(URL(fileURLWithPath: path)) }
        }
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [])
            .compactMap { name -> (Int, String)? in Int(name).map { ($0, name) } }
            .sorted { $0.0 > $1.0 }
        candidates += versions.map { URL(fileURLWithPath: "\(root)/\($0.1)/bin") }
        for bin in candidates
        where FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("initdb").path)
            && FileManager.default.isExecutableFile(atPath: bin.appendingPathComponent("pg_ctl").path) {
            return bin
        }
        throw .init("PostgreSQL server binaries not found (no initdb via pg_config --bindir or in /usr/lib/postgresql/*/bin); install them: apt-get install -y postgresql")
    }

    /// Whether the cluster exists and whether it runs.
    public func status() -> ClusterStatus {
        // pg.json is written last by initialise(): without it the cluster is not (fully) made.
        guard FileManager.default.fileExists(atPath: layout.dataDirectory.appendingPathComponent("PG_VERSION").path),
              let state = try? ClusterState.load(from: layout.stateFile)
        else { return .notInitialized }
        let result = try? run(tool: "pg_ctl", ["status", "-D", layout.dataDirectory.path])
        if result?.status == 0 { return .running(port: state.port) }
        return .stopped
    }

    /// Creates the cluster when needed and starts it when it is not running; returns how to
    /// connect. Safe to call from several processes at once (a file lock serialises them).
    @discardableResult
    public func start() throws(EmbeddedPostgresError) -> ConnectionInfo {
        let lock = try FileLock(path: layout.home.appendingPathComponent("pg.lock").path)
        defer { lock.release() }

        if case .notInitialized = status() { try initialise() }
        var state = try ClusterState.load(from: layout.stateFile)
        if case .running = status() { return try connectionInfo(state: state) }

        try removeStalePidFile()
        if !PortFinder.isFree(state.port) {
            state.port = try PortFinder.freePort()
            try state.save(to: layout.stateFile)
        }
        try prepareSocketDirectory()
        logger.info("starting embedded PostgreSQL", metadata: [
            "envmon.pg.data": "\(layout.dataDirectory.path)", "envmon.pg.port": "\(state.port)",
        ])
        let options = Self.serverOptions(port: state.port, socket: layout.socketDirectory.path)
        let result = try run(tool: "pg_ctl", [
            "start", "-w", "-t", "60", "-D", layout.dataDirectory.path, "-l", layout.logFile.path, "-o", options,
        ])
        guard result.status == 0 else {
            let tail = (try? String(contentsOf: layout.logFile, encoding: .utf8))?
                .split(separator: "\n").suffix(3).joined(separator: " | ") ?? ""
            throw .init("embedded PostgreSQL did not start (\(result.stderr.trimmed)); log \(layout.logFile.path): \(tail)")
        }
        return try connectionInfo(state: state)
    }

    /// Stops the cluster; harmless when it is not running. `fast` (the default) ends sessions
    /// and checkpoints; `immediate` is a crash stop (recovery from WAL at the next start), for
    /// emergencies and crash drills.
    public func stop(immediately: Bool = false) throws(EmbeddedPostgresError) {
        guard case .running = status() else { return }
        let mode = immediately ? "immediate" : "fast"
        let result = try run(tool: "pg_ctl", ["stop", "-w", "-m", mode, "-D", layout.dataDirectory.path])
        guard result.status == 0 else { throw .init("pg_ctl stop failed: \(result.stderr.trimmed)") }
    }

    /// How to connect to the cluster (it need not be running).
    public func connectionInfo() throws(EmbeddedPostgresError) -> ConnectionInfo {
        try connectionInfo(state: ClusterState.load(from: layout.stateFile))
    }

    private func connectionInfo(state: ClusterState) throws(EmbeddedPostgresError) -> ConnectionInfo {
        let password: String
        do {
            password = try String(contentsOf: layout.passwordFile, encoding: .utf8).trimmed
        } catch {
            throw .init("cannot read the embedded cluster's password file \(layout.passwordFile.path): \(error.localizedDescription)")
        }
        return ConnectionInfo(
            host: "127.0.0.1", port: state.port, socketDirectory: layout.socketDirectory.path,
            user: Self.user, password: password, database: Self.database)
    }

    // MARK: - Creating the cluster

    private func initialise() throws(EmbeddedPostgresError) {
        let fm = FileManager.default
        let password = Self.generatePassword()
        do {
            try fm.createDirectory(at: layout.home, withIntermediateDirectories: true)
            try Data((password + "\n").utf8).write(to: layout.passwordFile, options: .atomic)
            _ = chmod(layout.passwordFile.path, 0o600)
            // A cluster left half-made by an interrupted first start is removed and made again.
            if fm.fileExists(atPath: layout.dataDirectory.path) {
                logger.info("removing a half-made embedded cluster", metadata: ["envmon.pg.data": "\(layout.dataDirectory.path)"])
                _ = try? run(tool: "pg_ctl", ["stop", "-w", "-m", "immediate", "-D", layout.dataDirectory.path])
                try fm.removeItem(at: layout.dataDirectory)
            }
            try fm.createDirectory(at: layout.clusterRoot, withIntermediateDirectories: true)
        } catch {
            throw .init("cannot prepare \(layout.home.path): \(error.localizedDescription)")
        }
        try handOver(layout.clusterRoot)
        // initdb reads the password from a file that its user can read: a private copy.
        let pwfile = layout.clusterRoot.appendingPathComponent(".initdb-pw")
        do {
            try Data((password + "\n").utf8).write(to: pwfile)
            _ = chmod(pwfile.path, 0o600)
        } catch {
            throw .init("cannot write \(pwfile.path): \(error.localizedDescription)")
        }
        try handOver(pwfile)
        defer { try? FileManager.default.removeItem(at: pwfile) }
        logger.info("creating embedded PostgreSQL cluster", metadata: ["envmon.pg.data": "\(layout.dataDirectory.path)"])
        let result = try run(tool: "initdb", [
            "-D", layout.dataDirectory.path, "-U", Self.user, "--pwfile", pwfile.path,
            "--auth-local=scram-sha-256", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8",
        ])
        guard result.status == 0 else {
            throw .init("initdb failed: \(result.stderr.trimmed.split(separator: "\n").last ?? "")")
        }
        let state = ClusterState(port: try PortFinder.freePort(), binDirectory: binDirectory.path)
        // Start once to create the application database; pg.json is written only then.
        try prepareSocketDirectory()
        let options = Self.serverOptions(port: state.port, socket: layout.socketDirectory.path)
        let start = try run(tool: "pg_ctl", ["start", "-w", "-D", layout.dataDirectory.path, "-l", layout.logFile.path, "-o", options])
        guard start.status == 0 else { throw .init("embedded PostgreSQL did not start after initdb: \(start.stderr.trimmed)") }
        let create = try Shell.run(binDirectory.appendingPathComponent("psql").path, [
            "-X", "-q", "-h", layout.socketDirectory.path, "-p", "\(state.port)", "-U", Self.user, "-d", "postgres",
            "-c", "CREATE DATABASE \(Self.database)",
        ], environment: ["PGPASSWORD": password], unsetting: Self.libpqVariables)
        guard create.status == 0 else { throw .init("cannot create database \(Self.database): \(create.stderr.trimmed)") }
        try state.save(to: layout.stateFile)
        if layout.relocatedReason != nil {
            try? Data(layout.clusterRoot.path.utf8).write(to: layout.home.appendingPathComponent("pg-location"))
        }
    }

    private func prepareSocketDirectory() throws(EmbeddedPostgresError) {
        do {
            try FileManager.default.createDirectory(at: layout.socketDirectory, withIntermediateDirectories: true)
        } catch {
            throw .init("cannot create socket folder \(layout.socketDirectory.path): \(error.localizedDescription)")
        }
        _ = chmod(layout.socketDirectory.path, 0o755)
        try handOver(layout.socketDirectory)
    }

    /// After a crash, `postmaster.pid` may name a process that is gone (or a reused pid of
    /// something else); postgres would refuse to start.
    private func removeStalePidFile() throws(EmbeddedPostgresError) {
        let pidFile = layout.dataDirectory.appendingPathComponent("postmaster.pid")
        guard let text = try? String(contentsOf: pidFile, encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = Int32(first.trimmed) else { return }
        let comm = (try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8))?.trimmed
        if comm == "postgres" || comm == "postmaster" { return }
        logger.info("removing stale postmaster.pid", metadata: ["envmon.pg.pid": "\(pid)"])
        try? FileManager.default.removeItem(at: pidFile)
    }

    /// Gives a path to the user that runs PostgreSQL (only when we are root).
    private func handOver(_ url: URL) throws(EmbeddedPostgresError) {
        guard let runAs, let pw = getpwnam(runAs) else { return }
        if chown(url.path, pw.pointee.pw_uid, pw.pointee.pw_gid) != 0 {
            throw .init("cannot hand \(url.path) to user \(runAs): \(String(cString: strerror(errno)))")
        }
    }

    func run(tool: String, _ arguments: [String]) throws(EmbeddedPostgresError) -> Shell.Result {
        let path = binDirectory.appendingPathComponent(tool).path
        // The cluster's own tools must not follow a shell's libpq settings (an empty PGPORT
        // or PGUSER makes initdb fail; a PGHOST would point pg_ctl's checks elsewhere).
        let unset = Self.libpqVariables
        if let runAs {
            // From `/`: initdb refuses to run in a folder its user cannot read (e.g. /root).
            return try Shell.run("/usr/sbin/runuser", ["-u", runAs, "--", "/bin/sh", "-c", "cd / && exec \"$0\" \"$@\"", path] + arguments,
                                 unsetting: unset)
        }
        return try Shell.run(path, arguments, unsetting: unset)
    }

    /// libpq's environment variables.
    public static let libpqVariables = [
        "PGHOST", "PGHOSTADDR", "PGPORT", "PGUSER", "PGPASSWORD", "PGPASSFILE", "PGDATABASE", "PGSERVICE",
        "PGSERVICEFILE", "PGOPTIONS", "PGSSLMODE", "PGREQUIRESSL", "PGCONNECT_TIMEOUT", "PGCLIENTENCODING", "PGTZ",
        "PGDATESTYLE", "PGTARGETSESSIONATTRS", "PGDATA",
    ]

    /// Command-line settings of the server: where it listens, and room for a service's pools
    /// plus analysts and the test suite's parallel databases.
    static func serverOptions(port: Int, socket: String) -> String {
        "-p \(port) -k \(socket) -c listen_addresses=127.0.0.1 -c max_connections=300"
    }

    static func generatePassword() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

/// Whether the embedded cluster exists and runs.
public enum ClusterStatus: Sendable, Equatable {
    case notInitialized
    case stopped
    case running(port: Int)
}

/// How to reach a PostgreSQL server.
public struct ConnectionInfo: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var socketDirectory: String?
    public var user: String
    public var password: String
    public var database: String

    public init(host: String, port: Int, socketDirectory: String?, user: String, password: String, database: String) {
        self.host = host
        self.port = port
        self.socketDirectory = socketDirectory
        self.user = user
        self.password = password
        self.database = database
    }

    /// `postgres://user:password@127.0.0.1:port/database`.
    public var url: String {
        let escape: (String) -> String = {
            $0.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0
        }
        return "postgres://\(escape(user)):\(escape(password))@\(host):\(port)/\(escape(database))"
    }
}

/// A failure of the embedded cluster, in one line.
public struct EmbeddedPostgresError: Error, Sendable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension StringProtocol {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}
