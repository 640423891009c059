import AsyncHTTPClient
import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing

/// `envmon serve --read-url` and `envmon report --read-url` against a real streaming standby of
/// the tests' cluster (`pg_basebackup -R`, see `TestStandby`), with replay paused and resumed
/// and the standby stopped under a running server.
@Suite("a streaming standby for reads", .timeLimit(.minutes(10)), .temporaryDatabases)
struct ReadReplicaTests {
    /// `/readyz` as JSON (status code, body).
    static func readyz(_ base: String) async throws -> (Int, [String: Any]) {
        try await request("\(base)/readyz")
    }

    /// A request as JSON (status code, body), through the shared helper (AsyncHTTPClient).
    static func request(_ url: String, method: HTTPMethod = .GET, token: String? = nil,
                        json body: String? = nil) async throws -> (Int, [String: Any]) {
        try await ServiceGroupTests.request(url, method: method.rawValue, token: token, body: body,
                                            contentType: "application/json", timeout: .seconds(60))
    }

    /// Polls `/readyz` until it reports the replica `state` (up to `seconds`); the last answer.
    static func waitForReplica(_ base: String, _ state: String, seconds: Int = 120) async throws -> [String: Any] {
        var last: [String: Any] = [:]
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let (code, body) = try? await readyz(base), code == 200 {
                last = body
                if body["read_replica"] as? String == state { return body }
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        Issue.record("read_replica never became \(state) within \(seconds) s; last /readyz: \(last)")
        return last
    }

    static func silenceReasons(_ base: String, token: String) async throws -> [String] {
        let (code, body) = try await request("\(base)/v1/silences", token: token)
        #expect(code == 200, "\(body)")
        return (body["silences"] as? [[String: Any]] ?? []).compactMap { $0["reason"] as? String }
    }

    static func addSilence(_ base: String, token: String, reason: String) async throws -> Int {
        let json = #"{"matchers": ["alertname=FeedMissing"], "duration": "2h", "reason": "\#(reason)"}"#
        let (code, body) = try await request("\(base)/v1/silences", method: .POST, token: token, json: json)
        #expect(code == 201 || code == 200, "\(body)")
        return code
    }

    @Test("reads come from the standby; writes go to the primary; a lagging or stopped standby leaves reads to the primary and /readyz says so")
    func readsFollowTheStandby() async throws {
        let started = ContinuousClock.now
        try await TestStandby.with { standby in
            let made = ContinuousClock.now
            let db = try await standby.makeDatabase()
            let url = CLIProcessTests.url(db.address)
            let created = try await Shell.run(try CLIProcessTests.executable(),
                                              ["token", "create", "--name", "root", "--scope", "admin", "--database-url", url])
            try #require(created.status == 0, "\(created.stderr)")
            let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let passwordFile = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-replica-\(UUID().uuidString)")
            try Data("standby-test-pw-1\n".utf8).write(to: passwordFile)
            defer { try? FileManager.default.removeItem(at: passwordFile) }
            let user = try await Shell.run(try CLIProcessTests.executable(),
                                           ["user", "add", "ops", "--role", "admin", "--password-stdin", "--database-url", url],
                                           standardInput: passwordFile.path)
            try #require(user.status == 0, "\(user.stderr)")
            let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
            defer { _ = http.shutdown() }
            let replica = standby.address(database: db.name)
            try await standby.waitUntilCaughtUp()
            // A limit the checks below stay well inside on a busy machine, and a test can wait out.
            // (20 s was not: on a loaded CI machine the checks between the pause and the first
            // /readyz took longer, and the standby was already lagging.)
            let server = try await ServeProcessTests.Server.start(
                ["--database-url", url, "--workers", "1", "--read-max-lag", "60", "--log-level", "info"],
                environment: ["ENVMON_READ_URL": CLIProcessTests.url(replica)])
            defer { server.child.signal(SIGKILL) }
            _ = try await Self.waitForReplica(server.base, "in_use")
            #expect(try await Self.silenceReasons(server.base, token: token).isEmpty)

            // Replay paused: a silence made through the API is written on the primary (the
            // standby is read-only and paused), yet the list, read from the standby, lacks it.
            // (A commit replayed just before the pause gives the lag its starting point.)
            try await db.execute("CREATE TABLE replica_probe (n int); INSERT INTO replica_probe VALUES (1)")
            try await standby.waitUntilCaughtUp()
            try await standby.pauseReplay()
            _ = try await Self.addSilence(server.base, token: token, reason: "maintenance of plant 7")
            #expect(try await db.value("SELECT count(*) FROM envmon.silence") == "1")
            let inUse = try await Self.readyz(server.base).1
            #expect(inUse["read_replica"] as? String == "in_use", "\(inUse)")
            #expect(try await Self.silenceReasons(server.base, token: token).isEmpty, "read from the paused standby")
            // The console: signing in writes a session on the primary, which the page finds
            // there (the paused standby has no such session); the page's lists come from the
            // standby.
            let cookie = try await Self.signIn(http, server.base, "ops", "standby-test-pw-1")
            let (alertsPage, alertsHTML) = try await Self.page(http, "\(server.base)/alerts", cookie: cookie)
            #expect(alertsPage == 200, "\(alertsHTML.prefix(300))")
            #expect(!alertsHTML.contains("maintenance of plant 7"), "the console's silences were not read from the standby")

            // `envmon report --read-url` reads from the standby too; without it, the primary.
            try await db.execute("UPDATE envmon.plan_target SET value = 4321.5 WHERE id = (SELECT min(id) FROM envmon.plan_target)")
            let fromStandby = try await Shell.run(try CLIProcessTests.executable(),
                                                  ["report", "--json", "--database-url", url, "--read-url", CLIProcessTests.url(replica),
                                                   "--read-max-lag", "600"])
            #expect(fromStandby.status == 0, "\(fromStandby.stderr)")
            #expect(!fromStandby.stdout.contains("4321.5"), "the report was not read from the paused standby")
            #expect(!fromStandby.stderr.contains("reading from the primary"), "\(fromStandby.stderr)")
            let fromPrimary = try await Shell.run(try CLIProcessTests.executable(), ["report", "--json", "--database-url", url])
            #expect(fromPrimary.stdout.contains("4321.5"), "\(fromPrimary.stdout.prefix(400))")
            // The same report with a tight limit: the paused standby lags, the primary answers.
            let tight = try await Shell.run(try CLIProcessTests.executable(),
                                            ["report", "--json", "--database-url", url, "--read-max-lag", "0.001"],
                                            environment: ["ENVMON_READ_URL": CLIProcessTests.url(replica)])
            #expect(tight.stdout.contains("4321.5"), "\(tight.stderr)")
            #expect(tight.stderr.contains("read replica not used"), "\(tight.stderr)")

            // Past the limit: reads go to the primary, which has the silence; /readyz stays 200.
            let lagging = try await Self.waitForReplica(server.base, "lagging", seconds: 300)
            #expect(lagging["status"] as? String == "ready")
            #expect((lagging["read_replica_lag_seconds"] as? Double ?? 0) > 60, "\(lagging)")
            #expect(try await Self.silenceReasons(server.base, token: token) == ["maintenance of plant 7"])
            #expect(try await Self.page(http, "\(server.base)/alerts", cookie: cookie).1.contains("maintenance of plant 7"))
            let metricsText = String(decoding: try await ServiceGroupTests.exchange("\(server.base)/metrics", timeout: .seconds(60)).1, as: UTF8.self)
            #expect(metricsText.contains(#"envmon_read_replica_state{state="lagging"} 1"#), "\(metricsText.suffix(1500))")
            let pausedFor = ContinuousClock.now - made

            // Replay resumed: the standby catches up and serves the reads again, silence and all.
            try await standby.resumeReplay()
            _ = try await Self.waitForReplica(server.base, "in_use")
            #expect(try await Self.silenceReasons(server.base, token: token) == ["maintenance of plant 7"])

            // The standby stopped: reads go to the primary, /readyz says unreachable, still 200.
            try await standby.stop()
            let unreachable = try await Self.waitForReplica(server.base, "unreachable")
            #expect(unreachable["status"] as? String == "ready")
            #expect(try await Self.silenceReasons(server.base, token: token) == ["maintenance of plant 7"])
            let (planCode, plan) = try await Self.request("\(server.base)/v1/plan", token: token)
            #expect(planCode == 200, "\(plan)")

            let exit = try #require(try await server.stop(SIGTERM, within: 120), "serve did not stop")
            #expect(exit.status == 0, "\(exit.stderr.suffix(2000))")
            #expect(exit.stderr.contains("reading from the read replica"), "\(exit.stderr.suffix(3000))")
            #expect(exit.stderr.contains("read replica lags more than allowed"))
            #expect(exit.stderr.contains("read replica does not answer"))
            #expect(!exit.stderr.contains(replica.password ?? "-"), "a password in the log")
            print("read replica test: primary and standby made in \(made - started), until lagging \(pausedFor), whole test \(ContinuousClock.now - started)")
        }
    }

    @Test("a primary given as the read replica is not used, and the log says why without its password")
    func primaryIsNotAReplica() async throws {
        let db = try await TestDatabase.make()
        let url = CLIProcessTests.url(db.address)
        let server = try await ServeProcessTests.Server.start(["--database-url", url, "--workers", "0", "--read-url", url])
        defer { server.child.signal(SIGKILL) }
        let ready = try await Self.waitForReplica(server.base, "not_standby")
        #expect(ready["status"] as? String == "ready")
        let exit = try #require(try await server.stop(SIGTERM, within: 120), "serve did not stop")
        #expect(exit.stderr.contains("is not a standby"), "\(exit.stderr.suffix(2000))")
        #expect(!exit.stderr.contains(db.address.password ?? "-"), "a password in the log")
    }

    @Test("a read the standby cannot answer (gone since the last check) is answered by the primary, and the standby is taken out of use")
    func readFallsBackWhenTheStandbyIsGone() async throws {
        let db = try await TestDatabase.make()
        var address = db.address
        address.port = try closedLoopbackPort()
        var settings = ReadReplicaSettings(address: address)
        settings.readTimeout = .seconds(2)
        let replica = try ReadReplica(settings: settings, logger: Harness.logger)
        replica.update(.inUse(lag: 0))  // as the last check found it
        try await db.withDatabase { primary in
            try await Harness.bounded("the standby's pool") {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await replica.pool.run() }
                    // Reads go to the standby only once its pool runs.
                    try await replica.pool.waitUntilStarted(within: .seconds(60))
                    let reads = ReadSource(primary: primary, replica: replica)
                    let started = ContinuousClock.now
                    let zone = try await reads.run { try await FeedZone.read($0).identifier }
                    #expect(zone == "Asia/Shanghai")
                    #expect(replica.state == .unreachable)
                    #expect(ContinuousClock.now - started < .seconds(30))
                    // Out of use: the next read goes straight to the primary.
                    #expect(!reads.database.sharesPool(with: replica.standby))
                    group.cancelAll()
                }
            }
        }
    }

    /// Signs in as a browser does; the session cookie (`name=value`).
    static func signIn(_ http: HTTPClient, _ base: String, _ name: String, _ password: String) async throws -> String {
        var login = HTTPClientRequest(url: "\(base)/login")
        login.method = .POST
        login.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        login.body = .bytes(ByteBuffer(string: "username=\(name)&password=\(password)"))
        let answer = try await http.execute(login, timeout: .seconds(60))
        #expect(answer.status.code == 303)
        return try #require(answer.headers.first(name: "Set-Cookie")?.split(separator: ";").first.map(String.init))
    }

    /// A console page with the session cookie: status and HTML.
    static func page(_ http: HTTPClient, _ url: String, cookie: String) async throws -> (Int, String) {
        var request = HTTPClientRequest(url: url)
        request.headers.add(name: "Cookie", value: cookie)
        let response = try await http.execute(request, timeout: .seconds(60))
        return (Int(response.status.code), String(buffer: try await response.body.collect(upTo: 4 << 20)))
    }
}
