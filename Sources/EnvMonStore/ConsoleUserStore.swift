public import EnvMonDomain
public import Foundation
import Logging
import NIOCore
import PostgresNIO

/// Console users (`envmon.console_user`), their sessions and failed sign-ins. Password hashes
/// are made and checked by the caller (bcrypt, off the event loops); this stores them.
public struct ConsoleUserStore: Sendable {
    public let database: Database
    /// A session unused this long is over.
    public static let idleTimeout: TimeInterval = 8 * 3600
    /// Failed sign-ins of one name within `lockoutWindow` that lock it for `lockoutWindow`.
    public static let lockoutFailures = 5
    public static let lockoutWindow: TimeInterval = 15 * 60

    public init(database: Database) {
        self.database = database
    }

    public func add(name: String, role: UserRole, passwordHash: String) async throws -> ConsoleUser {
        let existing = try await user(named: name)
        if existing != nil { throw EnvMonError.conflict("a user named \(name) exists already") }
        let rows = try await database.client.query("""
            INSERT INTO envmon.console_user (name, role, password_hash) VALUES (\(name), \(role.rawValue), \(passwordHash))
            RETURNING id, name, role, created_at, last_login_at, disabled_at
            """, logger: database.logger)
        for try await row in rows { return try Self.user(from: row) }
        throw EnvMonError.conflict("the user \(name) was not stored")
    }

    public func list() async throws -> [ConsoleUser] {
        let rows = try await database.client.query(
            "SELECT id, name, role, created_at, last_login_at, disabled_at FROM envmon.console_user ORDER BY id",
            logger: database.logger)
        var users: [ConsoleUser] = []
        for try await row in rows { users.append(try Self.user(from: row)) }
        return users
    }

    public func user(named name: String) async throws -> ConsoleUser? {
        let rows = try await database.client.query(
            "SELECT id, name, role, created_at, last_login_at, disabled_at FROM envmon.console_user WHERE name = \(name)",
            logger: database.logger)
        for try await row in rows { return try Self.user(from: row) }
        return nil
    }

    /// The stored hash of an enabled user's password, with the user; nil for an unknown or
    /// disabled name.
    public func credentials(name: String) async throws -> (user: ConsoleUser, passwordHash: String)? {
        let rows = try await database.client.query("""
            SELECT id, name, role, created_at, last_login_at, disabled_at, password_hash
              FROM envmon.console_user WHERE name = \(name) AND disabled_at IS NULL
            """, logger: database.logger)
        for try await row in rows {
            let hash = try row.makeRandomAccess()[6].decode(String.self)
            return (try Self.user(from: row), hash)
        }
        return nil
    }

    /// Disables a user and ends their sessions.
    public func disable(name: String) async throws -> ConsoleUser {
        let rows = try await database.client.query("""
            UPDATE envmon.console_user SET disabled_at = coalesce(disabled_at, now()) WHERE name = \(name)
            RETURNING id, name, role, created_at, last_login_at, disabled_at
            """, logger: database.logger)
        return try await endingSessions(of: rows, name: name)
    }

    /// Sets a new password hash and ends the user's sessions.
    public func setPassword(name: String, passwordHash: String) async throws -> ConsoleUser {
        let rows = try await database.client.query("""
            UPDATE envmon.console_user SET password_hash = \(passwordHash), password_set_at = now() WHERE name = \(name)
            RETURNING id, name, role, created_at, last_login_at, disabled_at
            """, logger: database.logger)
        return try await endingSessions(of: rows, name: name)
    }

    /// The user an UPDATE … RETURNING changed, after ending their sessions.
    private func endingSessions(of rows: PostgresRowSequence, name: String) async throws -> ConsoleUser {
        for try await row in rows {
            let user = try Self.user(from: row)
            try await database.client.query("DELETE FROM envmon.console_session WHERE user_id = \(user.id)", logger: database.logger)
            return user
        }
        throw EnvMonError.notFound("no user \(name)")
    }

    // MARK: Sessions

    /// Starts a session; returns the cookie's secret (stored only as its SHA-256) and the CSRF token.
    public func startSession(for user: ConsoleUser, origin: String) async throws -> (secret: String, csrfToken: String) {
        let secret = TokenStore.generateSecret(prefix: "envs_")
        let csrf = TokenStore.generateSecret(prefix: "")
        let hash = ByteBuffer(bytes: TokenStore.hash(secret))
        try await database.client.query("""
            INSERT INTO envmon.console_session (token_hash, user_id, csrf_token, origin)
            VALUES (\(hash), \(user.id), \(csrf), \(String(origin.prefix(200))))
            """, logger: database.logger)
        try await database.client.query(
            "UPDATE envmon.console_user SET last_login_at = now() WHERE id = \(user.id)", logger: database.logger)
        return (secret, csrf)
    }

    /// The live session of a cookie's secret: its user enabled and the session used within the
    /// idle timeout (each use renews it, at most once a minute).
    public func session(secret: String) async throws -> ConsoleSession? {
        guard secret.hasPrefix("envs_"), secret.utf8.count < 200 else { return nil }
        let hash = ByteBuffer(bytes: TokenStore.hash(secret))
        let idle = Self.idleTimeout
        let rows = try await database.client.query("""
            SELECT u.id, u.name, u.role, u.created_at, u.last_login_at, u.disabled_at, s.csrf_token,
                   s.last_seen_at < now() - interval '1 minute' AS stale
              FROM envmon.console_session s JOIN envmon.console_user u ON u.id = s.user_id
             WHERE s.token_hash = \(hash) AND u.disabled_at IS NULL
               AND s.last_seen_at > now() - make_interval(secs => \(idle))
            """, logger: database.logger)
        for try await row in rows {
            let columns = row.makeRandomAccess()
            let session = ConsoleSession(user: try Self.user(from: row), csrfToken: try columns[6].decode(String.self))
            if try columns[7].decode(Bool.self) {
                try await database.client.query(
                    "UPDATE envmon.console_session SET last_seen_at = now() WHERE token_hash = \(hash)", logger: database.logger)
            }
            return session
        }
        return nil
    }

    /// Ends the session of a cookie's secret (nothing when there is none).
    public func endSession(secret: String) async throws {
        let hash = ByteBuffer(bytes: TokenStore.hash(secret))
        try await database.client.query("DELETE FROM envmon.console_session WHERE token_hash = \(hash)", logger: database.logger)
    }

    // MARK: Failed sign-ins

    public func recordFailure(name: String, origin: String) async throws {
        try await database.client.query("""
            INSERT INTO envmon.console_login_failure (user_name, origin) VALUES (\(String(name.prefix(200))), \(String(origin.prefix(200))))
            """, logger: database.logger)
    }

    /// Whether `name` has had `lockoutFailures` failed sign-ins within the window.
    public func isLockedOut(name: String) async throws -> Bool {
        let window = Self.lockoutWindow
        let rows = try await database.client.query("""
            SELECT count(*)::integer FROM envmon.console_login_failure
             WHERE user_name = \(String(name.prefix(200))) AND at > now() - make_interval(secs => \(window))
            """, logger: database.logger)
        for try await count in rows.decode(Int.self) { return count >= Self.lockoutFailures }
        return false
    }

    static func user(from row: PostgresRow) throws -> ConsoleUser {
        // By position: the first six columns, whatever follows them.
        let columns = row.makeRandomAccess()
        return ConsoleUser(
            id: try columns[0].decode(Int.self), name: try columns[1].decode(String.self),
            role: UserRole(rawValue: try columns[2].decode(String.self)) ?? .viewer, createdAt: try columns[3].decode(Date.self),
            lastLoginAt: try columns[4].decode(Date?.self), disabledAt: try columns[5].decode(Date?.self))
    }
}
