public import EnvMonDomain
public import Hummingbird

/// Per-request state of the envmon API: the authenticated token, when there is one.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `TokenAuthMiddleware`.
    public var token: APIToken?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    /// The authenticated token; routes behind `TokenAuthMiddleware` always have one.
    func requireToken() throws -> APIToken {
        guard let token else { throw APIError.unauthorized("no bearer token") }
        return token
    }
}
