public import Foundation

/// What a console user may do; each role is an API token scope.
public enum UserRole: String, Sendable, Codable, CaseIterable {
    /// Reads the plan, alerts, uploads (token scope read).
    case viewer
    /// Also uploads feeds and acknowledges alerts (scope upload).
    case uploader
    /// Everything, reverts and silences included (scope admin).
    case admin

    public var scope: TokenScope {
        switch self {
        case .viewer: .read
        case .uploader: .upload
        case .admin: .admin
        }
    }
}

/// A person who signs in to the web console, as listed: never the password's hash.
public struct ConsoleUser: Sendable, Codable, Equatable {
    public var id: Int
    public var name: String
    public var role: UserRole
    public var createdAt: Date
    public var lastLoginAt: Date?
    public var disabledAt: Date?

    public init(id: Int, name: String, role: UserRole, createdAt: Date, lastLoginAt: Date?, disabledAt: Date?) {
        self.id = id
        self.name = name
        self.role = role
        self.createdAt = createdAt
        self.lastLoginAt = lastLoginAt
        self.disabledAt = disabledAt
    }

    /// A user name: 1 to 64 characters, no spaces or control characters (a Chinese name is fine).
    public static func validName(_ name: String) -> Bool {
        (1...64).contains(name.count) && !name.unicodeScalars.contains {
            CharacterSet.whitespacesAndNewlines.contains($0) || CharacterSet.controlCharacters.contains($0)
        }
    }

    /// Passwords of 10 to 128 characters (bcrypt reads at most 72 bytes of it).
    public static func passwordProblem(_ password: String) -> String? {
        if password.count < 10 { return "a password needs at least 10 characters" }
        if password.utf8.count > 72 { return "a password is at most 72 bytes (bcrypt reads no more)" }
        if password.contains("\0") { return "a password cannot contain NUL" }
        return nil
    }
}

/// A signed-in session as a request sees it.
public struct ConsoleSession: Sendable, Equatable {
    public var user: ConsoleUser
    /// The token every state-changing request of the session must carry.
    public var csrfToken: String

    public init(user: ConsoleUser, csrfToken: String) {
        self.user = user
        self.csrfToken = csrfToken
    }
}
