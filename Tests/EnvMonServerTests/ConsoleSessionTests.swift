import AsyncHTTPClient
import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing

/// Console users and sessions through the real paths: `envmon user` as a process, sign-in,
/// cookie, CSRF and sign-out over HTTP against a live server on a real database.
@Suite("Console users and sessions", .timeLimit(.minutes(10)), .temporaryDatabases)
struct ConsoleSessionTests {
    static let password = "correct horse battery"

    /// Adds a user with the real command (the password on standard input).
    static func addUser(_ url: String, _ name: String, role: String, password: String = password) async throws -> Shell.Result {
        // Standard input is a file, as when an operator redirects one.
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-password-\(UUID().uuidString)")
        try Data((password + "\n").utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        return try await Shell.run(try CLIProcessTests.executable(), ["user", "add", name, "--role", role, "--password-stdin",
                                                                      "--database-url", url], standardInput: file.path)
    }

    static func form(_ fields: [String: String]) -> ByteBuffer {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return ByteBuffer(string: fields.sorted { $0.key < $1.key }.map { name, value in
            "\(name)=\(value.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")"
        }.joined(separator: "&"))
    }

    static let formType: HTTPFields = [.contentType: "application/x-www-form-urlencoded"]

    static func signIn(_ client: any TestClientProtocol, _ name: String, _ password: String) async throws -> TestResponse {
        try await client.execute(uri: "/login", method: .post, headers: formType,
                                 body: form(["username": name, "password": password]))
    }

    /// The session cookie's value from a sign-in answer.
    static func cookie(_ response: TestResponse) -> String? {
        guard let header = response.headers[.setCookie], let first = header.split(separator: ";").first,
              first.hasPrefix("envmon_session=") else { return nil }
        return String(first.dropFirst("envmon_session=".count))
    }

    static func withCookie(_ value: String, _ more: HTTPFields = [:]) -> HTTPFields {
        var fields = more
        fields[.cookie] = "envmon_session=\(value)"
        return fields
    }

    @Test("envmon user add reads the password from stdin and keeps a bcrypt hash; bad input is a usage error")
    func userCommands() async throws {
        let db = try await TestDatabase.make()
        let url = CLIProcessTests.url(db.address)
        let added = try await Self.addUser(url, "王芳", role: "uploader")
        #expect(added.status == 0, "\(added.stderr)")
        let hash = try #require(try await db.value("SELECT password_hash FROM envmon.console_user WHERE name = '王芳'"))
        #expect(hash.hasPrefix("$2b$12$") && hash.count == 60, "\(hash)")
        #expect(!hash.contains(Self.password))

        let short = try await Self.addUser(url, "li", role: "viewer", password: "short")
        #expect(short.status != 0)
        #expect(short.stderr.contains("at least 10 characters"), "\(short.stderr)")
        let twice = try await Self.addUser(url, "王芳", role: "admin")
        #expect(twice.status != 0)
        #expect(twice.stderr.contains("exists already"), "\(twice.stderr)")
        let noStdin = try await Shell.run(try CLIProcessTests.executable(), ["user", "add", "zhao", "--role", "viewer", "--database-url", url])
        #expect(noStdin.status != 0)
        #expect(noStdin.stderr.contains("--password-stdin"), "\(noStdin.stderr)")

        let listed = try await Shell.run(try CLIProcessTests.executable(), ["user", "list", "--json", "--database-url", url])
        #expect(listed.status == 0)
        #expect(listed.stdout.contains("\"role\":\"uploader\"") || listed.stdout.contains("\"role\" : \"uploader\""), "\(listed.stdout)")
        #expect(!listed.stdout.contains("$2b$"))
        let disabled = try await Shell.run(try CLIProcessTests.executable(), ["user", "disable", "王芳", "--database-url", url])
        #expect(disabled.status == 0, "\(disabled.stderr)")
        #expect(try await db.value("SELECT count(*) FROM envmon.audit_event WHERE action IN ('user.create', 'user.disable')") == "2")
    }

    @Test("sign in sets an HttpOnly SameSite=Lax cookie; it reads /v1, a change needs the CSRF token, sign-out ends it")
    func signInReadWriteSignOut() async throws {
        try await Harness.withApp(.live) { client, db, _ in
            let url = CLIProcessTests.url(db.address)
            #expect(try await Self.addUser(url, "clerk", role: "uploader").status == 0)

            let page = try await client.execute(uri: "/login", method: .get)
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let html = String(buffer: page.body)
            #expect(html.contains(#"<html lang="zh-CN">"#) && html.contains(#"name="username""#) && html.contains(#"type="password""#))
            #expect(String(buffer: try await client.execute(uri: "/login?lang=en", method: .get).body).contains("Sign in"))

            let wrong = try await Self.signIn(client, "clerk", "not the password")
            #expect(wrong.status == .unauthorized)
            #expect(Self.cookie(wrong) == nil)
            #expect(String(buffer: wrong.body).contains("用户名或密码错误"))

            let signedIn = try await Self.signIn(client, "clerk", Self.password)
            #expect(signedIn.status == .seeOther)
            #expect(signedIn.headers[.location] == "/")
            let setCookie = try #require(signedIn.headers[.setCookie])
            #expect(setCookie.contains("HttpOnly") && setCookie.contains("SameSite=Lax") && setCookie.contains("Path=/"))
            #expect(!setCookie.contains("Secure"))  // plain HTTP here; the TLS server sets it
            let secret = try #require(Self.cookie(signedIn))
            // Stored only as its SHA-256.
            let stored = try await db.client.query("SELECT count(*)::integer FROM envmon.console_session WHERE token_hash = sha256(convert_to(\(secret), 'UTF8'))",
                                                   logger: Harness.logger)
            for try await count in stored.decode(Int.self) { #expect(count == 1) }

            let me = try await client.execute(uri: "/v1/session", method: .get, headers: Self.withCookie(secret))
            #expect(me.status == .ok)
            let who = try Harness.json(me.body)
            #expect(who["name"] as? String == "clerk")
            #expect(who["role"] as? String == "uploader")
            let csrf = try #require(who["csrf_token"] as? String)
            #expect(try await client.execute(uri: "/v1/alerts", method: .get, headers: Self.withCookie(secret)).status == .ok)

            let csv = ByteBuffer(string: Feed.emissions(rows: 2, seed: 90))
            let forged = try await client.execute(uri: "/v1/uploads?kind=emissions", method: .post,
                                                  headers: Self.withCookie(secret, [.contentType: "text/csv"]), body: csv)
            #expect(forged.status == .forbidden)
            #expect(String(buffer: forged.body).contains("CSRF"))
            var headers = Self.withCookie(secret, [.contentType: "text/csv"])
            headers[SessionController.csrfHeader] = csrf
            let upload = try await client.execute(uri: "/v1/uploads?kind=emissions", method: .post, headers: headers, body: csv)
            #expect(upload.status == .accepted)
            let id = try #require(try Harness.json(upload.body)["id"] as? Int)
            #expect(try await db.client.query("SELECT uploader FROM envmon.upload WHERE id = \(id)", logger: Harness.logger)
                        .decode(String.self).reduce(into: []) { $0.append($1) } == ["clerk"])
            let actors = try await db.client.query("SELECT actor || ' ' || action FROM envmon.audit_event ORDER BY id", logger: Harness.logger)
                .decode(String.self).reduce(into: [String]()) { $0.append($1) }
            #expect(actors.contains("user:clerk session.start") && actors.contains("user:clerk upload.create"), "\(actors)")

            let noToken = try await client.execute(uri: "/logout", method: .post, headers: Self.withCookie(secret))
            #expect(noToken.status == .forbidden)
            let out = try await client.execute(uri: "/logout", method: .post, headers: Self.withCookie(secret, Self.formType),
                                               body: Self.form(["csrf_token": csrf]))
            #expect(out.status == .seeOther)
            #expect(out.headers[.location] == "/login")
            #expect(out.headers[.setCookie]?.contains("Max-Age=0") == true)
            #expect(try await client.execute(uri: "/v1/alerts", method: .get, headers: Self.withCookie(secret)).status == .unauthorized)
        }
    }

    @Test("the overview page: signed out it sends you to /login; signed in it shows the plan, the user and a sign-out form with the CSRF token")
    func overviewPage() async throws {
        try await Harness.withApp(.live) { client, db, _ in
            try await TestDatabase.seedDefaultTargets(db)
            let url = CLIProcessTests.url(db.address)
            #expect(try await Self.addUser(url, "科长", role: "viewer").status == 0)
            let away = try await client.execute(uri: "/", method: .get)
            #expect(away.status == .seeOther)
            #expect(away.headers[.location] == "/login")

            let secret = try #require(Self.cookie(try await Self.signIn(client, "科长", Self.password)))
            let page = try await client.execute(uri: "/", method: .get, headers: Self.withCookie(secret))
            #expect(page.status == .ok)
            #expect(page.headers[.contentType]?.hasPrefix("text/html") == true)
            let csp = page.headers[HTTPField.Name("Content-Security-Policy")!] ?? ""
            #expect(csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"))
            let html = String(buffer: page.body)
            let me = try Harness.json(try await client.execute(uri: "/v1/session", method: .get, headers: Self.withCookie(secret)).body)
            let csrf = try #require(me["csrf_token"] as? String)
            #expect(html.contains(#"<html lang="zh-CN">"#))
            #expect(html.contains(#"<meta name="csrf-token" content="\#(csrf)">"#))
            #expect(html.contains(#"<input type="hidden" name="csrf_token" value="\#(csrf)">"#))
            #expect(html.contains("科长") && html.contains("总览"))
            // Every shipped target is a row, by its Chinese name, with its status in words.
            for name in ["重点工业企业排放稳定达标率", "污水集中处理率", "建成区绿化覆盖率", "人均公园绿地面积", "生活垃圾无害化转运率"] {
                #expect(html.contains("<th scope=\"row\">\(name)</th>"), "\(name) missing")
            }
            #expect(html.contains(#"<span class="status no_data">无数据</span>"#))  // nothing loaded yet
            // One script, the console's own file (CSP default-src 'self' forbids inline ones).
            #expect(html.components(separatedBy: "<script").count == 2)
            #expect(html.contains(#"<script src="/assets/console.js" defer></script>"#))
            let english = String(buffer: try await client.execute(uri: "/?lang=en", method: .get, headers: Self.withCookie(secret)).body)
            #expect(english.contains(#"<html lang="en">"#) && english.contains("Sign out"))

            let css = try await client.execute(uri: "/assets/console.css", method: .get)
            #expect(css.status == .ok)
            #expect(css.headers[.contentType]?.hasPrefix("text/css") == true)
            #expect(String(buffer: css.body).contains(".status.missed"))
        }
    }

    @Test("role matrix: every page reads for every role; upload and acknowledge need uploader; revert and silences need admin")
    func roleMatrix() async throws {
        try await Harness.withApp(.live) { client, db, _ in
            let url = CLIProcessTests.url(db.address)
            var sessions: [String: (secret: String, csrf: String)] = [:]
            for role in ["viewer", "uploader", "admin"] {
                #expect(try await Self.addUser(url, role, role: role).status == 0)
                let secret = try #require(Self.cookie(try await Self.signIn(client, role, Self.password)))
                let me = try Harness.json(try await client.execute(uri: "/v1/session", method: .get, headers: Self.withCookie(secret)).body)
                sessions[role] = (secret, try #require(me["csrf_token"] as? String))
            }
            for role in ["viewer", "uploader", "admin"] {
                let secret = try #require(sessions[role]?.secret)
                for page in ["/", "/alerts", "/uploads", "/enterprises", "/water", "/sites"] {
                    #expect(try await client.execute(uri: page, method: .get, headers: Self.withCookie(secret)).status == .ok, "\(role) \(page)")
                }
                // No such enterprise or section: 404 (a page of its own, not an empty chart).
                for page in ["/water/S1", "/enterprises/E1"] {
                    #expect(try await client.execute(uri: page, method: .get, headers: Self.withCookie(secret)).status == .notFound, "\(role) \(page)")
                }
                for page in ["/?lang=en", "/alerts?lang=en"] {
                    let english = try await client.execute(uri: page, method: .get, headers: Self.withCookie(secret))
                    #expect(english.status == .ok && String(buffer: english.body).contains(#"<html lang="en">"#), "\(role) \(page)")
                }
                for read in ["/v1/plan", "/v1/alerts", "/v1/silences"] {
                    #expect(try await client.execute(uri: read, method: .get, headers: Self.withCookie(secret)).status == .ok, "\(role) \(read)")
                }
            }
            // Each change with the session's CSRF token: refused (403) below the role it needs,
            // otherwise answered on its merits (202, 404 for an id that does not exist, 201).
            let silence = ByteBuffer(string: #"{"matchers": ["rule=\"FeedMissing\""], "duration": "2h", "reason": "检修"}"#)
            let changes: [(path: String, type: String, body: ByteBuffer, needs: String, allowed: HTTPResponse.Status)] = [
                ("/v1/uploads?kind=emissions", "text/csv", ByteBuffer(string: Feed.emissions(rows: 2, seed: 91)), "uploader", .accepted),
                ("/v1/alerts/999999/ack", "application/json", ByteBuffer(string: "{}"), "uploader", .notFound),
                ("/v1/uploads/999999/revert", "application/json", ByteBuffer(), "admin", .notFound),
                ("/v1/silences", "application/json", silence, "admin", .created),
                ("/v1/silences/999999/expire", "application/json", ByteBuffer(), "admin", .notFound),
            ]
            let rank = ["viewer": 0, "uploader": 1, "admin": 2]
            for change in changes {
                for role in ["viewer", "uploader", "admin"] {
                    let session = try #require(sessions[role])
                    var headers = Self.withCookie(session.secret, [.contentType: change.type])
                    headers[SessionController.csrfHeader] = session.csrf
                    let answer = try await client.execute(uri: change.path, method: .post, headers: headers, body: change.body)
                    let expected: HTTPResponse.Status = (rank[role] ?? 0) >= (rank[change.needs] ?? 3) ? change.allowed : .forbidden
                    #expect(answer.status == expected, "\(role) POST \(change.path): \(String(buffer: answer.body))")
                }
            }
            let actors = try await db.client.query("SELECT actor || ' ' || action FROM envmon.audit_event WHERE action LIKE 'silence.%'",
                                                   logger: Harness.logger).decode(String.self).reduce(into: [String]()) { $0.append($1) }
            #expect(actors == ["user:admin silence.add"])
        }
    }

    @Test("a session unused for 8 hours has ended; one used within 8 hours goes on")
    func sessionExpiry() async throws {
        try await Harness.withApp(.live) { client, db, _ in
            #expect(try await Self.addUser(CLIProcessTests.url(db.address), "clerk", role: "uploader").status == 0)
            let stale = try #require(Self.cookie(try await Self.signIn(client, "clerk", Self.password)))
            let fresh = try #require(Self.cookie(try await Self.signIn(client, "clerk", Self.password)))
            for (secret, idle) in [(stale, "8 hours 1 minute"), (fresh, "7 hours 59 minutes")] {
                _ = try await db.client.query("""
                    UPDATE envmon.console_session SET last_seen_at = now() - \(idle)::interval
                    WHERE token_hash = sha256(convert_to(\(secret), 'UTF8'))
                    """, logger: Harness.logger)
            }
            #expect(try await client.execute(uri: "/v1/session", method: .get, headers: Self.withCookie(stale)).status == .unauthorized)
            let page = try await client.execute(uri: "/alerts", method: .get, headers: Self.withCookie(stale))
            #expect(page.status == .seeOther && page.headers[.location] == "/login")
            #expect(try await client.execute(uri: "/v1/session", method: .get, headers: Self.withCookie(fresh)).status == .ok)
            #expect(try await client.execute(uri: "/alerts", method: .get, headers: Self.withCookie(fresh)).status == .ok)
        }
    }

    @Test("five failed sign-ins lock a name for 15 minutes, even with the right password; other names are not affected")
    func lockout() async throws {
        try await Harness.withApp(.live) { client, db, _ in
            let url = CLIProcessTests.url(db.address)
            #expect(try await Self.addUser(url, "chief", role: "viewer").status == 0)
            #expect(try await Self.addUser(url, "other", role: "viewer").status == 0)
            for _ in 0..<5 { #expect(try await Self.signIn(client, "chief", "wrong password!").status == .unauthorized) }
            let locked = try await Self.signIn(client, "chief", Self.password)
            #expect(locked.status == .tooManyRequests)
            #expect(locked.headers[.retryAfter] == "900")
            #expect(Self.cookie(locked) == nil)
            // An unknown name is answered like a known one, and locks the same way.
            #expect(try await Self.signIn(client, "nobody", "wrong password!").status == .unauthorized)
            let other = try #require(Self.cookie(try await Self.signIn(client, "other", Self.password)))
            // A viewer reads but may not upload, CSRF token or not.
            let me = try Harness.json(try await client.execute(uri: "/v1/session", method: .get, headers: Self.withCookie(other)).body)
            var headers = Self.withCookie(other, [.contentType: "text/csv"])
            headers[SessionController.csrfHeader] = try #require(me["csrf_token"] as? String)
            let upload = try await client.execute(uri: "/v1/uploads?kind=emissions", method: .post, headers: headers,
                                                  body: ByteBuffer(string: Feed.emissions(rows: 1, seed: 91)))
            #expect(upload.status == .forbidden)
            #expect(String(buffer: upload.body).contains("viewer"))
        }
    }

    @Test("sessions live in the database: another server accepts the cookie; disabling the user ends it there too")
    func sessionsOutliveTheServer() async throws {
        let testDB = try await TestDatabase.make()
        let url = CLIProcessTests.url(testDB.address)
        #expect(try await Self.addUser(url, "leader", role: "admin").status == 0)
        let first = try Harness.application(testDB)
        let secret: String = try await Harness.bounded("the first server") {
            try await first.test(.live) { client in
                try #require(Self.cookie(try await Self.signIn(client, "leader", Self.password)))
            }
        }
        let second = try Harness.application(testDB)
        try await Harness.bounded("the second server") {
            try await second.test(.live) { client in
                #expect(try await client.execute(uri: "/v1/alerts", method: .get, headers: Self.withCookie(secret)).status == .ok)
                let disabled = try await Shell.run(try CLIProcessTests.executable(), ["user", "disable", "leader", "--database-url", url])
                #expect(disabled.status == 0)
                #expect(try await client.execute(uri: "/v1/alerts", method: .get, headers: Self.withCookie(secret)).status == .unauthorized)
                #expect(try await Self.signIn(client, "leader", Self.password).status == .unauthorized)
            }
        }
    }
}

/// The main job as a newcomer runs it: `envmon demo` loads the generated district, reports, then
/// serves the console with a `demo` user whose password it prints.
@Suite("envmon demo and its console", .timeLimit(.minutes(10)), .temporaryDatabases)
struct DemoConsoleTests {
    @Test("envmon demo ends by serving the console: the printed password signs in and the overview shows the district's plan")
    func demoServesTheConsole() async throws {
        let db = try await TestDatabase.make()
        // As a new embedded cluster gets them (demo on the embedded default).
        try await db.withDatabase { try await TestDatabase.seedDefaultTargets($0) }
        let port = try ServiceGroupTests.freePort()
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-demo-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: home) }
        let child = try Shell.spawn(try CLIProcessTests.executable(),
                                    ["demo", "--port", "\(port)", "--database-url", CLIProcessTests.url(db.address)],
                                    environment: ["ENVMON_HOME": home.path])
        defer { child.signal(SIGKILL) }
        var password: String?
        for _ in 0..<3000 where password == nil {
            if let exited = try child.poll() { Issue.record("demo exited with \(exited.status): \(exited.stderr.suffix(2000))"); return }
            let line = child.outputSoFar().split(separator: "\n").first { $0.hasPrefix("== web console:") }
            password = line.flatMap { $0.firstMatch(of: /sign in as demo \/ ([A-Za-z0-9]+)/).map { String($0.output.1) } }
            if password == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let secret = try #require(password, "no console line in: \(child.outputSoFar().suffix(2000))")
        let base = "http://127.0.0.1:\(port)"
        var ready = 0
        for _ in 0..<3000 where ready != 200 {
            ready = (try? await ServiceGroupTests.request("\(base)/readyz").0) ?? 0
            if ready != 200 { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready == 200)

        // Sign in as a browser would: a form post, then the cookie.
        let http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(redirectConfiguration: .disallow))
        defer { _ = http.shutdown() }
        let cookie = try await ReadReplicaTests.signIn(http, base, "demo", secret)
        let (status, html) = try await ReadReplicaTests.page(http, "\(base)/", cookie: cookie)
        #expect(status == 200)
        #expect(html.contains("总览") && html.contains("demo"))
        // The generated district's story: most targets met, sewage treatment at risk.
        #expect(html.contains(#"<span class="status met">达标</span>"#), "\(html.prefix(3000))")
        #expect(html.contains(#"<span class="status at_risk">有风险</span>"#), "\(html.prefix(3000))")
        #expect(child.outputSoFar().contains("ingesting a generated district"))

        child.signal(SIGINT)
        var exited: Shell.Result?
        for _ in 0..<600 where exited == nil {
            exited = try child.poll()
            if exited == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(exited?.status == 0, "\(exited?.stderr.suffix(2000) ?? "still running")")
    }
}
