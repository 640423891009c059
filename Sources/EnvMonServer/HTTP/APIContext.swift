public import EnvMonDomain
public import Hummingbird
import EnvMonStore
import NIOCore

/// Per-request state of the envmon API: the authenticated token, when there is one.
public struct APIContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set by `TokenAuthMiddleware`.
    public var token: APIToken?
    /// The console user's session, when the request came with its cookie instead of a token.
    public var session: ConsoleSession?
    /// The client's address (the peer of the connection; a reverse proxy's own address when
    /// there is one), for the audit trail.
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }

    /// The token's holder and the client's address, as the audit trail names them.
    func auditActor() throws -> AuditActor {
        let name = try session.map { "user:\($0.user.name)" } ?? "token:\(try requireToken().name)"
        return AuditActor(name: name, origin: "http \(remoteAddress ?? "unknown")")
    }

    /// The authenticated token; routes behind `TokenAuthMiddleware` always have one.
    func requireToken() throws -> APIToken {
        guard let token else { throw APIError.unauthorized("no bearer token") }
        return token
    }
}
