import EnvMonDomain
import EnvMonStore
import EnvMonWeb
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// Signing in to the web console: `GET /login` (the form), `POST /login` (form fields
/// `username`, `password`; sets the session cookie and sends the browser to `/`) and
/// `POST /logout` (with the session's CSRF token).
///
/// Five failed sign-ins of one name within 15 minutes lock it for 15 minutes (429), whether the
/// name exists or not, so that the answer tells an attacker nothing. Every sign-in, failure and
/// sign-out is in the audit trail.
struct SessionController {
    let database: Database
    /// Sent with `Secure` when the server speaks TLS.
    let secureCookies: Bool
    let view: ConsoleView

    static let cookieName = "envmon_session"
    static let csrfHeader = HTTPField.Name("X-CSRF-Token")!
    /// The largest sign-in form read.
    static let maximumFormBytes = 16 << 10

    func addRoutes(to router: Router<APIContext>) {
        router.get("login") { request, _ in Self.page(status: .ok, notice: nil, lang: Self.language(request), view: view) }
        router.post("login") { request, context in try await signIn(request, context: context) }
        router.post("logout") { request, context in try await signOut(request, context: context) }
    }

    /// `GET /v1/session`: who is calling — for a console user also the CSRF token their
    /// scripts send with every change.
    func addReadRoutes(to group: RouterGroup<APIContext>) {
        group.get("session") { _, context in
            let token = try context.requireToken()
            let who = Caller(name: token.name, scope: token.scope.rawValue, role: context.session?.user.role.rawValue,
                             csrfToken: context.session?.csrfToken)
            var response = try JSONBody.response(who)
            response.headers[.cacheControl] = "no-store"
            return response
        }
    }

    struct Caller: Encodable {
        var name: String
        var scope: String
        var role: String?
        var csrfToken: String?
    }

    private func signIn(_ request: Request, context: APIContext) async throws -> Response {
        let lang = Self.language(request)
        let form = try await Self.form(request)
        guard let name = form["username"], let password = form["password"], !name.isEmpty, !password.isEmpty else {
            return Self.page(status: .unprocessableContent, notice: .missing, lang: lang, view: view)
        }
        let origin = "http \(context.remoteAddress ?? "unknown")"
        let users = ConsoleUserStore(database: database)
        let audit = AuditLog(database: database)
        if try await users.isLockedOut(name: name) {
            var response = Self.page(status: .tooManyRequests, notice: .locked, lang: lang, view: view)
            response.headers[.retryAfter] = "\(Int(ConsoleUserStore.lockoutWindow))"
            return response
        }
        // A name that does not exist costs a bcrypt verification too, so timing tells nothing.
        let found = try await users.credentials(name: name)
        let matches = try await Passwords.verify(password, hash: found?.passwordHash)
        guard let user = found?.user, matches else {
            try await users.recordFailure(name: name, origin: origin)
            try await audit.record(AuditActor(name: "user:\(String(name.prefix(64)))", origin: origin), "session.failed",
                                   subject: nil, summary: "a failed sign-in")
            return Self.page(status: .unauthorized, notice: .wrong, lang: lang, view: view)
        }
        let session = try await users.startSession(for: user, origin: origin)
        try await audit.record(AuditActor(name: "user:\(user.name)", origin: origin), "session.start",
                               subject: "user \(user.id)", summary: "signed in (\(user.role.rawValue))")
        var response = Response(status: .seeOther, headers: [.location: "/"])
        response.setCookie(Cookie(name: Self.cookieName, value: session.secret, path: "/", secure: secureCookies,
                                  httpOnly: true, sameSite: .lax))
        return response
    }

    private func signOut(_ request: Request, context: APIContext) async throws -> Response {
        var response = Response(status: .seeOther, headers: [.location: "/login"])
        response.setCookie(Cookie(name: Self.cookieName, value: "", maxAge: 0, path: "/", secure: secureCookies,
                                  httpOnly: true, sameSite: .lax))
        guard let secret = request.cookies[Self.cookieName]?.value,
              let session = try await ConsoleUserStore(database: database).session(secret: secret) else {
            return response  // nobody signed in: nothing to end
        }
        let form = try await Self.form(request)
        let sent = request.headers[Self.csrfHeader] ?? form["csrf_token"]
        guard let sent, Self.sameToken(sent, session.csrfToken) else {
            throw APIError.forbidden("signing out needs the page's CSRF token (form field csrf_token or header X-CSRF-Token)")
        }
        try await ConsoleUserStore(database: database).endSession(secret: secret)
        try await AuditLog(database: database).record(
            AuditActor(name: "user:\(session.user.name)", origin: "http \(context.remoteAddress ?? "unknown")"),
            "session.end", subject: "user \(session.user.id)", summary: "signed out")
        return response
    }

    /// Whether `sent` is the session's CSRF token (compared in constant time).
    static func sameToken(_ sent: String, _ expected: String) -> Bool {
        TokenStore.constantTimeEqual(Array(sent.utf8), Array(expected.utf8))
    }

    /// An `application/x-www-form-urlencoded` body as fields (the first of a repeated name wins).
    static func form(_ request: Request) async throws -> [String: String] {
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            return [:]
        }
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maximumFormBytes)
        } catch {
            throw APIError.badRequest("the form is larger than \(maximumFormBytes >> 10) KiB")
        }
        var fields: [String: String] = [:]
        for pair in String(buffer: body).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            func decoded(_ text: Substring) -> String? {
                text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
            }
            guard let name = parts.first.flatMap(decoded), fields[name] == nil else { continue }
            let value = parts.count > 1 ? decoded(parts[1]) : ""
            guard let value, !value.contains("\0") else { throw APIError.badRequest("the form field \(name) is not valid text") }
            fields[name] = value
        }
        return fields
    }

    /// Chinese unless `?lang=en` or an Accept-Language that prefers English.
    static func language(_ request: Request) -> ConsoleView.Language {
        if let lang = request.uri.queryParameters["lang"] { return lang.hasPrefix("en") ? .english : .chinese }
        if let accept = request.headers[.acceptLanguage]?.lowercased(), accept.hasPrefix("en") { return .english }
        return .chinese
    }

    enum Notice {
        case missing, wrong, locked
    }

    static func text(_ notice: Notice, _ lang: ConsoleView.Language) -> String {
        switch (notice, lang) {
        case (.missing, .english): "Enter your user name and password."
        case (.missing, .chinese): "请输入用户名和密码。"
        case (.wrong, .english): "The user name or password is wrong."
        case (.wrong, .chinese): "用户名或密码错误。"
        case (.locked, .english): "Too many failed sign-ins for this name; try again in 15 minutes."
        case (.locked, .chinese): "该用户登录失败次数过多，请 15 分钟后再试。"
        }
    }

    /// The sign-in page: a plain form, no script, nothing from another host.
    static func page(status: HTTPResponse.Status, notice: Notice?, lang: ConsoleView.Language, view: ConsoleView) -> Response {
        ConsoleController.html(view.login(lang, message: notice.map { text($0, lang) }), status: status)
    }

}
