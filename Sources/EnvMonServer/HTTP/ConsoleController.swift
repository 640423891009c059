import EnvMonDomain
import EnvMonStore
import EnvMonWeb
import Foundation
import HTTPTypes
import Hummingbird
import NIOCore

/// The web console's pages for signed-in users (the session cookie of `POST /login`); without a
/// session a page sends the browser to `/login`. Pages read the same analytics views as the API
/// and analysts, so a page and a query never disagree.
struct ConsoleController {
    let database: Database
    let view: ConsoleView

    func addRoutes(to router: Router<APIContext>) {
        router.get("/") { request, _ in try await overview(request) }
        router.get("assets/console.css") { _, _ in
            var response = Response(status: .ok, headers: [.contentType: "text/css; charset=utf-8"],
                                    body: .init(byteBuffer: ByteBuffer(string: ConsoleView.stylesheet)))
            response.headers[.cacheControl] = "max-age=3600"
            return response
        }
    }

    /// 总览: the plan's targets.
    private func overview(_ request: Request) async throws -> Response {
        guard let secret = request.cookies[SessionController.cookieName]?.value,
              let session = try await ConsoleUserStore(database: database).session(secret: secret) else {
            return Response(status: .seeOther, headers: [.location: "/login"])
        }
        let plan = try await PlanStore(database: database).progress()
        return Self.html(view.overview(SessionController.language(request), user: session.user,
                                       csrfToken: session.csrfToken, plan: plan))
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
