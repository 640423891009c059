public import Logging
import NIOCore
import PostgresNIO

/// What a streaming standby reports about itself: whether it is one, how far it has replayed the
/// primary's WAL, and how long ago the last transaction it replayed committed.
public struct StandbyReport: Sendable, Equatable {
    /// `pg_is_in_recovery()`: false means the server is a primary (or a promoted standby).
    public var inRecovery: Bool
    /// `pg_last_wal_replay_lsn()` as a byte position; nil on a primary.
    public var replayPosition: UInt64?
    /// `now() - pg_last_xact_replay_timestamp()` in seconds; nil before the first replayed commit.
    public var secondsSinceReplayedCommit: Double?
    /// `pg_is_wal_replay_paused()`.
    public var replayPaused: Bool
    /// `pg_control_system().system_identifier`: a standby made from a primary has the primary's.
    /// Nil when the role may not read it.
    public var systemIdentifier: Int64?

    public init(inRecovery: Bool, replayPosition: UInt64?, secondsSinceReplayedCommit: Double?, replayPaused: Bool,
                systemIdentifier: Int64?) {
        self.inRecovery = inRecovery
        self.replayPosition = replayPosition
        self.secondsSinceReplayedCommit = secondsSinceReplayedCommit
        self.replayPaused = replayPaused
        self.systemIdentifier = systemIdentifier
    }
}

/// What the primary reports: how far its WAL goes, and which cluster it is.
public struct PrimaryReport: Sendable, Equatable {
    /// `pg_current_wal_lsn()` as a byte position.
    public var position: UInt64
    public var systemIdentifier: Int64?

    public init(position: UInt64, systemIdentifier: Int64?) {
        self.position = position
        self.systemIdentifier = systemIdentifier
    }
}

/// The queries that tell whether a read replica may serve reads (`envmon serve --read-url`).
public enum Replication {
    /// The primary's WAL position (on a standby, PostgreSQL refuses `pg_current_wal_lsn()`).
    public static func primary(_ database: Database) async throws -> PrimaryReport {
        try await database.client.withConnection { connection in
            let identifier = try await systemIdentifier(on: connection, logger: database.logger)
            let rows = try await connection.query("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::int8", logger: database.logger)
            for try await position in rows.decode(Int64.self) {
                return PrimaryReport(position: UInt64(max(0, position)), systemIdentifier: identifier)
            }
            throw ReplicationQueryFailed()
        }
    }

    /// Asks the standby at `address` on a connection of its own (not a pool), so that a standby
    /// that is down answers with an error within `connectTimeout` rather than a pool's backoff.
    public static func standby(_ address: ServerAddress, connectTimeout: Duration, logger: Logger) async throws -> StandbyReport {
        var configuration = try Database.connectionConfiguration(address)
        let (seconds, attoseconds) = connectTimeout.components
        configuration.options.connectTimeout = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 0, logger: logger)
        do {
            let report = try await standby(on: connection, logger: logger)
            try? await connection.close()
            return report
        } catch {
            try? await connection.close()
            throw error
        }
    }

    private static func standby(on connection: PostgresConnection, logger: Logger) async throws -> StandbyReport {
        let identifier = try await systemIdentifier(on: connection, logger: logger)
        let rows = try await connection.query("""
            SELECT pg_is_in_recovery(),
                   pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::int8,
                   extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,
                   CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() ELSE false END
            """, logger: logger)
        for try await (recovery, replay, since, paused) in rows.decode((Bool, Int64?, Double?, Bool).self) {
            return StandbyReport(inRecovery: recovery, replayPosition: replay.map { UInt64(max(0, $0)) },
                                 secondsSinceReplayedCommit: since.map { max(0, $0) }, replayPaused: paused,
                                 systemIdentifier: identifier)
        }
        throw ReplicationQueryFailed()
    }

    /// The cluster's identity; nil when the role may not read `pg_control_system()`.
    private static func systemIdentifier(on connection: PostgresConnection, logger: Logger) async throws -> Int64? {
        do {
            for try await value in try await connection.query("SELECT system_identifier FROM pg_control_system()", logger: logger)
                .decode(Int64.self) { return value }
            return nil
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "42501" {
            return nil
        }
    }
}

/// A replication query returned no row (it always returns one).
public struct ReplicationQueryFailed: Error, Sendable, CustomStringConvertible {
    public var description: String { "the replication status query returned no row" }
}

extension Database {
    /// Whether `error` means the server could not be reached or went away (as opposed to a query
    /// the server answered with an error): the kind of failure after which a read replica is
    /// taken out of use until it answers again.
    public static func isConnectionFailure(_ error: any Error) -> Bool {
        let error = unwrap(error)
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .poolClosed,
                 .sslUnsupported, .failedToAddSSLHandler:
                return true
            case .server:
                // 08: connection exception; 57: operator intervention (shutdown, cannot connect now).
                let state = error.serverInfo?[.sqlState] ?? ""
                return state.hasPrefix("08") || state.hasPrefix("57P")
            default:
                return false
            }
        }
        return false
    }
}
