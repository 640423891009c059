public import EnvMonDomain
import Foundation
import Logging
import PostgresNIO

extension AnalystLimits {
    /// `setting → milliseconds` for `ALTER ROLE … SET`.
    var settings: [(String, Int64)] {
        [("statement_timeout", statementTimeout), ("idle_in_transaction_session_timeout", idleInTransactionTimeout),
         ("lock_timeout", lockTimeout)].map { ($0.0, $0.1.components.seconds * 1_000 + $0.1.components.attoseconds / 1_000_000_000_000_000) }
    }
}

/// Login roles for analysts: members of `envmon_analyst`, which may SELECT the analytics views
/// and nothing else, with limits on how long their sessions may hold anything.
public struct AnalystAccess: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Creates (or, with a new password, resets) a login role in `envmon_analyst` with `limits`;
    /// returns the generated password. Names are restricted to lower-case letters, digits and `_`.
    public func create(name: String, limits: AnalystLimits = AnalystLimits()) async throws -> String {
        guard name.range(of: #"^[a-z_][a-z0-9_]{0,62}$"#, options: .regularExpression) != nil else {
            throw EnvMonError.invalid("an analyst name is lower-case letters, digits and _ (got '\(name)')")
        }
        var generator = SystemRandomNumberGenerator()
        let password = (0..<18).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
        // Role names and passwords cannot be binds in DDL: the name is validated above and the
        // password is hex.
        try await database.client.withTransaction(logger: database.logger) { tx in
            var exists = false
            for try await _ in try await tx.query("SELECT 1 FROM pg_roles WHERE rolname = \(name)", logger: database.logger)
                .decode(Int.self) { exists = true }
            let verb = exists ? "ALTER" : "CREATE"
            try await tx.query(PostgresQuery(unsafeSQL: "\(verb) ROLE \(name) LOGIN PASSWORD '\(password)'"), logger: database.logger)
            try await tx.query(PostgresQuery(unsafeSQL: "GRANT envmon_analyst TO \(name)"), logger: database.logger)
            // Settings of the login role itself: a group role's settings are not inherited.
            for (setting, milliseconds) in limits.settings {
                try await tx.query(PostgresQuery(unsafeSQL: "ALTER ROLE \(name) SET \(setting) = \(max(milliseconds, 1))"),
                                   logger: database.logger)
            }
            try await tx.query(PostgresQuery(unsafeSQL: "GRANT CONNECT ON DATABASE \"\(database.address.database)\" TO \(name)"),
                               logger: database.logger)
        }
        return password
    }
}
