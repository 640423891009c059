import Foundation
import NIOCore
import NIOSSL
import PostgresNIO

/// What kind of failure a database error is, decided here so that PostgresNIO's error types
/// stop at EnvMonStore: the server and the CLI ask this, never the SQLSTATE.
public enum DatabaseFailure: Sendable, Equatable {
    /// The database cannot be reached or went away (connection refused, closed, shut down).
    case unavailable
    /// Worth trying again as it is: a deadlock, a serialization failure, a lock or statement
    /// timeout, resources short on the server.
    case transient
    /// The statement cannot succeed as it is (a value out of range, a constraint, a program
    /// error): retrying changes nothing.
    case permanent
    /// An analytics view does not exist (views not created yet, or being re-created).
    case missingRelation

    /// The failure an error stands for; nil when it did not come from the database.
    public static func of(_ error: any Error) -> DatabaseFailure? {
        let error = Database.unwrap(error)
        if let error = error as? PSQLError {
            if let state = error.serverInfo?[.sqlState] { return of(sqlState: state) }
            switch error.code {
            case .queryCancelled: return .transient
            case .server: return .permanent
            case .tooManyParameters, .invalidCommandTag, .unexpectedBackendMessage, .messageDecodingFailure: return .permanent
            default: return .unavailable  // connection and TLS failures, a closed pool
            }
        }
        if error is NIOSSLError || error is IOError || error is ChannelError { return .unavailable }
        if error is DatabaseUnavailable { return .unavailable }
        return nil
    }

    /// The failure a SQLSTATE stands for.
    static func of(sqlState: String) -> DatabaseFailure {
        let code = PostgresError.Code(raw: sqlState)
        if code == .undefinedTable { return .missingRelation }
        if code == .lockNotAvailable || code == .queryCanceled { return .transient }
        switch sqlState.prefix(2) {
        case "08", "57": return code == .queryCanceled ? .transient : .unavailable
        case "40", "53", "58": return .transient
        default: return .permanent
        }
    }

    /// Whether an error is PostgreSQL's unique violation (a key stored before or repeated).
    static func isUniqueViolation(_ error: any Error) -> Bool {
        sqlState(error).map { PostgresError.Code(raw: $0) == .uniqueViolation } ?? false
    }

    /// Whether an error is "ON CONFLICT DO UPDATE command cannot affect row a second time".
    static func isCardinalityViolation(_ error: any Error) -> Bool {
        sqlState(error).map { PostgresError.Code(raw: $0) == .cardinalityViolation } ?? false
    }

    static func sqlState(_ error: any Error) -> String? {
        (Database.unwrap(error) as? PSQLError)?.serverInfo?[.sqlState]
    }
}
