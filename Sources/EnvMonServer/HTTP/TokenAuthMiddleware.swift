import Logging
public import EnvMonDomain
import EnvMonStore
import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdCore

/// Requires `Authorization: Bearer <token>` of at least `scope` (admin ⊃ upload ⊃ read):
/// 401 without a token or with one that is unknown or revoked, 403 when its scope is too small.
public struct TokenAuthMiddleware: RouterMiddleware {
    public typealias Context = APIContext
    public let scope: TokenScope
    let tokens: TokenStore

    init(scope: TokenScope, tokens: TokenStore) {
        self.scope = scope
        self.tokens = tokens
    }

    public func handle(_ request: Request, context: APIContext, next: (Request, APIContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else {
            if let secret = request.cookies[SessionController.cookieName]?.value,
               let session = try await ConsoleUserStore(database: tokens.database).session(secret: secret) {
                return try await signedIn(session, request, context: context, next: next)
            }
            throw APIError.unauthorized("send an API token: Authorization: Bearer envm_… (create one with `envmon token create`)")
        }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else {
            throw APIError.unauthorized("the Authorization header must be `Bearer <token>`")
        }
        let secret = parts[1].trimmingCharacters(in: .whitespaces)
        guard let token = try await tokens.authenticate(secret: secret) else {
            throw APIError.unauthorized("the token is unknown or revoked")
        }
        guard token.scope.allows(scope) else {
            throw APIError.forbidden("token '\(token.name)' has scope \(token.scope.rawValue); this needs \(scope.rawValue) or more")
        }
        var context = context
        context.token = token
        context.logger[metadataKey: "envmon.token"] = "\(token.name)"
        return try await next(request, context)
    }

    /// A console user's request, authenticated by the session cookie: their role is the scope,
    /// and a request that changes anything must carry the session's CSRF token in
    /// `X-CSRF-Token` (a page of another site can make the browser send the cookie, not the token).
    private func signedIn(_ session: ConsoleSession, _ request: Request, context: APIContext,
                          next: (Request, APIContext) async throws -> Response) async throws -> Response {
        if ![.get, .head, .options].contains(request.method) {
            guard let sent = request.headers[SessionController.csrfHeader], SessionController.sameToken(sent, session.csrfToken) else {
                throw APIError.forbidden("a signed-in change needs the page's CSRF token in the X-CSRF-Token header")
            }
        }
        let scope = session.user.role.scope
        guard scope.allows(self.scope) else {
            throw APIError.forbidden("user '\(session.user.name)' is a \(session.user.role.rawValue); this needs \(self.scope.rawValue) or more")
        }
        var context = context
        context.token = APIToken(id: 0, name: session.user.name, scope: scope, prefix: "session", createdAt: session.user.createdAt,
                                 lastUsedAt: nil, revokedAt: nil)
        context.session = session
        context.logger[metadataKey: "envmon.user"] = "\(session.user.name)"
        return try await next(request, context)
    }
}
