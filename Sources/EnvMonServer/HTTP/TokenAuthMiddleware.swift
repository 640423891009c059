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
}
