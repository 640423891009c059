public import Foundation

/// Who changed something, and from where: a token's holder and the client's address, a login
/// user, or the local account that ran the CLI.
public struct AuditActor: Sendable, Equatable {
    /// e.g. `token:clerk`, `cli:root`, `inbox`.
    public var name: String
    /// e.g. `http 10.0.0.7`, `cli host-1`, `inbox /srv/inbox/sewage`.
    public var origin: String

    public init(name: String, origin: String) {
        self.name = name
        self.origin = origin
    }

    /// The account running this process, on this host.
    public static var localCommand: AuditActor {
        AuditActor(name: "cli:\(ProcessInfo.processInfo.userName)", origin: "cli \(ProcessInfo.processInfo.hostName)")
    }
}

/// One recorded state change.
public struct AuditEvent: Sendable, Equatable, Codable {
    public var id: Int64
    public var at: Date
    public var actor: String
    public var origin: String
    /// `noun.verb`, e.g. `upload.create`, `alert.acknowledge`, `token.revoke`.
    public var action: String
    /// What was changed, e.g. `upload 17`.
    public var subject: String?
    public var summary: String

    public init(id: Int64, at: Date, actor: String, origin: String, action: String, subject: String?, summary: String) {
        self.id = id
        self.at = at
        self.actor = actor
        self.origin = origin
        self.action = action
        self.subject = subject
        self.summary = summary
    }
}
