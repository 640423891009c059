public import EnvMonDomain
import EnvMonStore
import Foundation
import HummingbirdBcrypt
import NIOPosix

/// Passwords hashed and checked with bcrypt (cost 12) on NIO's blocking-work pool: a hash takes
/// a few hundred milliseconds of CPU, which must not hold an event loop or a cooperative thread.
enum Passwords {
    static let cost: UInt8 = 12

    static func hash(_ password: String) async throws -> String {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Checks `password` against `hash`; with no hash (an unknown name) against a hash nobody
    /// knows the password of, so that the answer takes as long either way.
    static func verify(_ password: String, hash: String?) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive {
            let matches = Bcrypt.verify(password, hash: hash ?? decoy)
            return hash != nil && matches
        }
    }

    /// Made once, on the blocking-work pool, at the first unknown name.
    private static let decoy = Bcrypt.hash(UUID().uuidString + UUID().uuidString, cost: cost)
}

extension Operations {
    /// Adds a console user; the password is hashed with bcrypt, never stored or logged as given.
    public func addUser(name: String, role: UserRole, password: String) async throws -> ConsoleUser {
        guard ConsoleUser.validName(name) else {
            throw EnvMonError.invalid("a user name is 1 to 64 characters without spaces or control characters")
        }
        if let problem = ConsoleUser.passwordProblem(password) { throw EnvMonError.invalid(problem) }
        let hash = try await Passwords.hash(password)
        return try await withDatabase { db in
            let user = try await ConsoleUserStore(database: db).add(name: name, role: role, passwordHash: hash)
            try await AuditLog(database: db).record(.localCommand, "user.create", subject: "user \(user.id)",
                                                    summary: "\(name) (\(role.rawValue))")
            return user
        }
    }

    public func users() async throws -> [ConsoleUser] {
        try await withDatabase { try await ConsoleUserStore(database: $0).list() }
    }

    /// Disables a user and ends their sessions.
    public func disableUser(name: String) async throws -> ConsoleUser {
        try await withDatabase { db in
            let user = try await ConsoleUserStore(database: db).disable(name: name)
            try await AuditLog(database: db).record(.localCommand, "user.disable", subject: "user \(user.id)", summary: name)
            return user
        }
    }

    /// Sets a new password and ends the user's sessions.
    public func changePassword(name: String, password: String) async throws -> ConsoleUser {
        if let problem = ConsoleUser.passwordProblem(password) { throw EnvMonError.invalid(problem) }
        let hash = try await Passwords.hash(password)
        return try await withDatabase { db in
            let user = try await ConsoleUserStore(database: db).setPassword(name: name, passwordHash: hash)
            try await AuditLog(database: db).record(.localCommand, "user.password", subject: "user \(user.id)", summary: name)
            return user
        }
    }
}

extension Operations {
    /// The demo's console user `demo` (admin), with a new random password each time: returns it.
    public func demoConsoleUser() async throws -> String {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let password = String((0..<16).map { _ in alphabet[Int.random(in: 0..<alphabet.count, using: &generator)] })
        let exists = try await withDatabase { try await ConsoleUserStore(database: $0).user(named: "demo") } != nil
        if exists {
            _ = try await changePassword(name: "demo", password: password)
        } else {
            _ = try await addUser(name: "demo", role: .admin, password: password)
        }
        return password
    }
}
