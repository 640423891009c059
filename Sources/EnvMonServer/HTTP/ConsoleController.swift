import EnvMonDomain
import EnvMonStore
import EnvMonWeb
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console's pages for signed-in users (the session cookie of `POST /login`); without a
/// session a page sends the browser to `/login`. Pages read the same analytics views and stores
/// as the API and analysts, so a page and a query never disagree; their forms act through the
/// `/v1` API (`/assets/console.js`), with the session's CSRF token.
struct ConsoleController {
    /// The primary: sessions.
    let database: Database
    /// The pages' reads.
    let reads: ReadSource
    let view: ConsoleView

    /// Rejected rows shown per page of `/uploads/{id}`.
    static let rejectionsPerPage = 100

    func addRoutes(to router: Router<APIContext>) {
        router.get("/") { request, _ in try await page(request) { viewer, lang, db in
            // Two queries: the plan, its trends and the sub-district matrix from one evaluation
            // of the metrics; the counts.
            let queries = ConsoleQueries(database: db)
            async let overview = queries.overview()
            async let counts = queries.counts(cadence: AlertRule.defaultCadence, now: Date())
            let (plan, points, cells) = try await overview
            return view.overview(lang, viewer, plan: plan, points: points, cells: cells, counts: try await counts)
        } }
        router.get("uploads") { request, _ in try await page(request) { viewer, lang, db in
            view.uploads(lang, viewer, uploads: try await UploadQueries(database: db).list(limit: 100), zone: try await FeedZone.read(db))
        } }
        router.get("uploads/{id}") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self), id > 0 else { return notFound(request) }
            let number = request.uri.queryParameters["page"].flatMap { Int($0) }.map { max(1, min($0, 100_000)) } ?? 1
            guard let (upload, found) = try await reads.find({ try await UploadQueries(database: $0).upload(id: id) }) else {
                return notFound(request)
            }
            return try await page(request, on: found) { viewer, lang, db in
                let rejections = try await UploadQueries(database: db).rejections(
                    uploadID: id, limit: Self.rejectionsPerPage + 1, offset: (number - 1) * Self.rejectionsPerPage)
                return view.upload(lang, viewer, upload: upload, rejections: rejections, page: number,
                                   pageSize: Self.rejectionsPerPage, zone: try await FeedZone.read(db))
            }
        }
        router.get("alerts") { request, _ in try await page(request) { viewer, lang, db in
            let store = AlertStore(database: db)
            let open = try await store.list(state: .firing) + store.list(state: .pending)
            return view.alerts(lang, viewer, alerts: open, silences: try await store.silences(includeExpired: false, at: Date()),
                               zone: try await FeedZone.read(db))
        } }
        router.get("alerts/{id}") { request, context in
            guard let id = context.parameters.get("id", as: Int64.self), id > 0 else { return notFound(request) }
            guard let (alert, found) = try await reads.find({ try await AlertStore(database: $0).alert(id: id) }) else {
                return notFound(request)
            }
            return try await page(request, on: found) { viewer, lang, db in
                view.alert(lang, viewer, alert: alert, events: try await AlertStore(database: db).history(alertID: id),
                           zone: try await FeedZone.read(db))
            }
        }
        router.get("devices") { request, _ in try await page(request) { viewer, lang, db in
            let queries = ConsoleQueries(database: db)
            async let devices = queries.devices()
            async let refused = queries.refusedPackets(limit: 100)
            return view.devices(lang, viewer, devices: try await devices, refused: try await refused, zone: try await FeedZone.read(db))
        } }
        router.get("sites") { request, _ in try await page(request) { viewer, lang, db in
            view.sites(lang, viewer, sites: try await ConsoleQueries(database: db).siteFreshness(), now: Date(),
                       zone: try await FeedZone.read(db))
        } }
        router.get("enterprises") { request, _ in try await page(request) { viewer, lang, db in
            let months = Self.lastMonths(12, before: Date(), zone: try await FeedZone.read(db))
            let first = months.first.flatMap { CivilDate($0 + "-01") } ?? CivilDate(dayNumber: 0)
            let rows = try await ConsoleQueries(database: db).monthlyCompliance(from: first)
            return view.enterprises(lang, viewer, rows: rows, months: months)
        } }
        router.get("enterprises/{id}") { request, context in
            guard let id = context.parameters.get("id"), !id.isEmpty, id.count <= 64 else { return notFound(request) }
            let days = request.uri.queryParameters["days"].flatMap { Int($0) }.map { max(7, min($0, 400)) } ?? 92
            return try await page(request) { viewer, lang, db in
                let today = DemoDistrict.localDate(Date(), zone: try await FeedZone.read(db))
                let queries = ConsoleQueries(database: db)
                let points = try await queries.enterpriseDays(id, from: CivilDate(dayNumber: today.dayNumber - days + 1))
                if points.isEmpty, try await !queries.placeExists(kind: "enterprise", id: id) { return nil }
                return view.enterprise(lang, viewer, id: id, points: points, days: days)
            }
        }
        router.get("water/{id}") { request, context in
            guard let id = context.parameters.get("id"), !id.isEmpty, id.count <= 64 else { return notFound(request) }
            return try await page(request) { viewer, lang, db in
                let queries = ConsoleQueries(database: db)
                async let samples = queries.sectionSamples(id)
                async let bounds = queries.classVBounds()
                let found = try await samples
                if found.isEmpty, try await !queries.placeExists(kind: "section", id: id) { return nil }
                return view.section(lang, viewer, id: id, samples: found, bounds: try await bounds)
            }
        }
        router.get("water") { request, _ in try await page(request) { viewer, lang, db in
            let months = Self.lastMonths(12, before: Date(), zone: try await FeedZone.read(db))
            let first = months.first.flatMap { CivilDate($0 + "-01") } ?? CivilDate(dayNumber: 0)
            let classes = try await ConsoleQueries(database: db).monthlySectionClasses(from: first)
            return view.water(lang, viewer, classes: classes, months: months)
        } }
        router.get("assets/console.css") { _, _ in Self.asset(ConsoleView.stylesheet, type: "text/css; charset=utf-8") }
        router.get("assets/console.js") { _, _ in Self.asset(ConsoleView.script, type: "text/javascript; charset=utf-8") }
        router.get("assets/icon.svg") { _, _ in Self.asset(ConsoleView.icon, type: "image/svg+xml") }
        // Browsers ask for /favicon.ico whatever the page names; answer with the icon.
        router.get("favicon.ico") { _, _ in Self.asset(ConsoleView.icon, type: "image/svg+xml") }
    }

    /// A page for the signed-in user, or a redirect to the sign-in form; 404 when `render` finds
    /// nothing to show (nil). The session is the primary's (signing in writes it); `render`
    /// reads from `reads` (the standby when one is in use) — or from the primary, when that is
    /// where the page's subject was found (`on`: written a moment ago, not yet on the standby).
    private func page(
        _ request: Request, on database: Database? = nil,
        _ render: @escaping @Sendable (ConsoleView.Viewer, ConsoleView.Language, Database) async throws -> String?
    ) async throws -> Response {
        guard let secret = request.cookies[SessionController.cookieName]?.value,
              let session = try await ConsoleUserStore(database: self.database).session(secret: secret) else {
            return Response(status: .seeOther, headers: [.location: "/login"])
        }
        let viewer = ConsoleView.Viewer(user: session.user, csrfToken: session.csrfToken)
        let language = SessionController.language(request)
        let html: String?
        if let database {
            html = try await reads.run(after: database) { db in try await render(viewer, language, db) }
        } else {
            html = try await reads.run { db in try await render(viewer, language, db) }
        }
        guard let html else { return notFound(request) }
        return Self.html(html)
    }

    private func notFound(_ request: Request) -> Response {
        let english = SessionController.language(request) == .english
        return Self.html(english ? "<!doctype html><title>Not found</title><p>No such page. <a href=\"/\">Overview</a>"
                                 : "<!doctype html><title>未找到</title><p>没有这个页面。<a href=\"/\">返回总览</a>",
                         status: .notFound)
    }

    /// The `count` months up to the one containing `date` (local), as `YYYY-MM`, oldest first.
    static func lastMonths(_ count: Int, before date: Date, zone: TimeZone) -> [String] {
        let local = Int(date.timeIntervalSince1970) + zone.secondsFromGMT(for: date)
        let today = CivilDate(dayNumber: local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        let current = today.year * 12 + today.month - 1
        return ((current - count + 1)...current).map { String(format: "%04d-%02d", $0 / 12, $0 % 12 + 1) }
    }

    static func asset(_ text: String, type: String) -> Response {
        var response = Response(status: .ok, headers: [.contentType: type],
                                body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.cacheControl] = "max-age=3600"
        return response
    }

    /// An HTML page: never cached, never framed, nothing but this origin's own resources.
    static func html(_ text: String, status: HTTPResponse.Status = .ok) -> Response {
        var response = Response(status: status, headers: [.contentType: "text/html; charset=utf-8"],
                                body: .init(byteBuffer: ByteBuffer(string: text)))
        response.headers[.cacheControl] = "no-store"
        if let name = HTTPField.Name("Content-Security-Policy") {
            response.headers[name] = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
        }
        return response
    }
}
