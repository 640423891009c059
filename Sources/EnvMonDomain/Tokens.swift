public import Foundation

/// What an API token may do. Scopes nest: admin ⊃ upload ⊃ read.
public enum TokenScope: String, Sendable, Codable, CaseIterable, Comparable {
    case read, upload, admin

    public var rank: Int {
        switch self {
        case .read: return 0
        case .upload: return 1
        case .admin: return 2
        }
    }

    public static func < (lhs: TokenScope, rhs: TokenScope) -> Bool { lhs.rank < rhs.rank }

    /// Whether a token of this scope may do what `required` allows.
    public func allows(_ required: TokenScope) -> Bool { self >= required }
}

/// A token as listed: never its secret.
public struct APIToken: Sendable, Codable, Equatable {
    public var id: Int
    /// Who holds it; recorded as the uploader of what it uploads.
    public var name: String
    public var scope: TokenScope
    /// The first characters of the secret, to recognise it.
    public var prefix: String
    public var createdAt: Date
    public var lastUsedAt: Date?
    public var revokedAt: Date?

    public init(id: Int, name: String, scope: TokenScope, prefix: String, createdAt: Date, lastUsedAt: Date?,
                revokedAt: Date?) {
        self.id = id
        self.name = name
        self.scope = scope
        self.prefix = prefix
        self.createdAt = createdAt
        self.lastUsedAt = lastUsedAt
        self.revokedAt = revokedAt
    }
}

/// A token just created: the secret is shown once and never stored.
public struct NewAPIToken: Sendable, Codable, Equatable {
    public var token: APIToken
    public var secret: String

    public init(token: APIToken, secret: String) {
        self.token = token
        self.secret = secret
    }
}


