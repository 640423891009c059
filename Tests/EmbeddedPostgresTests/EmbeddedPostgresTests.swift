@testable import EmbeddedPostgres
import Foundation
import Logging
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// Real clusters, made with the machine's PostgreSQL binaries, each in its own home.
@Suite(.serialized, .timeLimit(.minutes(10)))
struct EmbeddedPostgresTests {
    static let logger = Logger(label: "envmon.tests.pg")

    /// A fresh home under /tmp (reachable by the postgres user), removed afterwards.
    func withCluster(parent: String = "/tmp", _ body: (EmbeddedPostgres, URL) throws -> Void) throws {
        let home = URL(fileURLWithPath: parent).appendingPathComponent("envmon-ept-\(UUID().uuidString.prefix(8))")
        let cluster = try EmbeddedPostgres(home: home, logger: Self.logger)
        defer {
            try? cluster.stop()
            try? FileManager.default.removeItem(at: home)
            if cluster.layout.relocatedReason != nil { try? FileManager.default.removeItem(at: cluster.layout.clusterRoot) }
        }
        try body(cluster, home)
    }

    func psql(_ cluster: EmbeddedPostgres, _ sql: String) throws -> Shell.Result {
        let info = try cluster.connectionInfo()
        return try Shell.run(cluster.binDirectory.appendingPathComponent("psql").path,
                             ["-X", "-At", "-h", info.host, "-p", "\(info.port)", "-U", info.user, "-d", info.database, "-c", sql],
                             environment: ["PGPASSWORD": info.password])
    }

    @Test("a spawned program inherits only stdin, stdout and stderr (no database session of ours)")
    func childrenInheritNoDescriptors() throws {
        // A descriptor without close-on-exec, as NIO's sockets are.
        let leaky = open("/dev/null", O_RDONLY)
        #expect(leaky > 2)
        defer { close(leaky) }
        let listing = try Shell.run("/bin/sh", ["-c", "ls /proc/$$/fd"])
        let inherited = listing.stdout.split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        #expect(!inherited.contains(leaky), "\(inherited)")
        #expect(inherited.allSatisfy { $0 <= 3 }, "\(inherited)")  // 0–2, and the shell's own for the listing
    }

    @Test func startsAnswersStopsAndRestartsWithDataIntact() throws {
        try withCluster { cluster, home in
            #expect(cluster.status() == .notInitialized)
            let info = try cluster.start()
            #expect(cluster.status() == .running(port: info.port))
            #expect(try psql(cluster, "CREATE TABLE kept (v text); INSERT INTO kept VALUES ('清运量')").status == 0)
            try cluster.stop()
            #expect(cluster.status() == .stopped)
            try cluster.start()
            let result = try psql(cluster, "SELECT v FROM kept")
            #expect(result.status == 0)
            #expect(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "清运量")
            // The password file is private.
            var info2 = stat()
            #expect(stat(home.appendingPathComponent("pg-password").path, &info2) == 0)
            #expect(info2.st_mode & 0o077 == 0)
        }
    }

    /// The start lock must not reach the server: were it inherited, a process killed while
    /// starting the cluster would leave the lock held by the server and every later start waiting.
    @Test(.enabled(if: geteuid() == 0, "only root may read another user's open files"))
    func theServerDoesNotHoldTheStartLock() throws {
        try withCluster { cluster, home in
            try cluster.start()
            let pidFile = try String(contentsOf: cluster.layout.dataDirectory.appendingPathComponent("postmaster.pid"),
                                     encoding: .utf8)
            let pid = try #require(pidFile.split(separator: "\n").first.map(String.init))
            let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
            #expect(!fds.isEmpty)
            let lock = home.appendingPathComponent("pg.lock").path
            let open = fds.compactMap { try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\($0)") }
            #expect(!open.contains(lock), "the postmaster has \(lock) open")
        }
    }

    @Test func startingTwiceIsHarmless() throws {
        try withCluster { cluster, _ in
            let first = try cluster.start()
            let second = try cluster.start()
            #expect(first == second)
            #expect(try psql(cluster, "SELECT 1").stdout.hasPrefix("1"))
        }
    }

    @Test func passwordIsRequiredOnTCP() throws {
        try withCluster { cluster, _ in
            let info = try cluster.start()
            let result = try Shell.run(cluster.binDirectory.appendingPathComponent("psql").path,
                                       ["-X", "-h", "127.0.0.1", "-p", "\(info.port)", "-U", info.user, "-d", info.database, "-c", "SELECT 1"],
                                       environment: ["PGPASSWORD": "wrong"])
            #expect(result.status != 0)
            #expect(result.stderr.contains("password authentication failed"))
            let hba = try String(contentsOf: cluster.layout.dataDirectory.appendingPathComponent("pg_hba.conf"), encoding: .utf8)
            let rules = hba.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.trimmingCharacters(in: .whitespaces).isEmpty }
            #expect(!rules.contains { $0.contains("trust") })
        }
    }

    @Test func recoversFromACrashWithAStalePidFile() throws {
        try withCluster { cluster, _ in
            try cluster.start()
            #expect(try psql(cluster, "CREATE TABLE survived (v int); INSERT INTO survived VALUES (7)").status == 0)
            let pidFile = cluster.layout.dataDirectory.appendingPathComponent("postmaster.pid")
            let pidText = try String(contentsOf: pidFile, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
            let pid = try #require(Int32(pidText))
            kill(pid, SIGKILL)
            // Wait until the postmaster and its children are gone.
            for _ in 0..<100 where FileManager.default.fileExists(atPath: "/proc/\(pid)") { usleep(100_000) }
            #expect(FileManager.default.fileExists(atPath: pidFile.path))
            // Make it look like the pid was reused by an unrelated process (ours).
            let stale = try String(contentsOf: pidFile, encoding: .utf8)
                .replacingOccurrences(of: pidText, with: String(getpid()))
            try stale.write(to: pidFile, atomically: true, encoding: .utf8)
            try cluster.start()
            #expect(try psql(cluster, "SELECT v FROM survived").stdout.hasPrefix("7"))
        }
    }

    @Test(.enabled(if: geteuid() == 0, "only root hands the cluster to the postgres user"))
    func relocatesWhenThePostgresUserCannotEnterTheHome() throws {
        let parent = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-private-\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: parent, withIntermediateDirectories: true)
        #expect(chmod(parent.path, 0o700) == 0)
        defer { try? FileManager.default.removeItem(at: parent) }
        try withCluster(parent: parent.path) { cluster, _ in
            let reason = try #require(cluster.layout.relocatedReason)
            #expect(reason.contains(parent.path))
            #expect(cluster.layout.socketDirectory.path.utf8.count < 90)
            try cluster.start()
            #expect(try psql(cluster, "SELECT 1").stdout.hasPrefix("1"))
            var info = stat()
            #expect(stat(cluster.layout.dataDirectory.path, &info) == 0)
            #expect(info.st_uid == getpwnam("postgres").pointee.pw_uid)
        }
    }

    @Test func unreachableAncestorIsFound() throws {
        guard geteuid() == 0 else { return }
        #expect(ClusterLayout.firstUnreachableAncestor(of: URL(fileURLWithPath: "/root/x/y"), user: "postgres") == "/root")
        #expect(ClusterLayout.firstUnreachableAncestor(of: URL(fileURLWithPath: "/tmp/x"), user: "postgres") == nil)
    }
}
