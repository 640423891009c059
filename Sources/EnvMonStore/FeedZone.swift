import EnvMonDomain
public import Foundation
import Logging
import PostgresNIO

/// The feed time zone as the database holds it (`envmon.setting` `feed_time_zone`): the one
/// setting that parsing, the loader's local days and the views all use.
public enum FeedZone {
    /// The zone's name as stored.
    static func name(on connection: PostgresConnection, logger: Logger) async throws -> String {
        var zone = FeedTimeZone.defaultIdentifier
        for try await name in try await connection.query("SELECT envmon.feed_time_zone()", logger: logger)
            .decode(String.self) { zone = name }
        return zone
    }

    /// The zone, or a clear error when the stored name is not a zone this machine knows.
    static func read(on connection: PostgresConnection, logger: Logger) async throws -> TimeZone {
        let name = try await name(on: connection, logger: logger)
        guard let zone = TimeZone(identifier: name) else { throw FeedZoneUnknown(name: name) }
        return zone
    }

    /// The feed time zone of `database`.
    public static func read(_ database: Database) async throws -> TimeZone {
        try await database.client.withConnection { try await read(on: $0, logger: database.logger) }
    }

    /// Sets the feed time zone (`envmon settings set feed_time_zone …`).
    public static func set(_ zone: TimeZone, in database: Database) async throws {
        try await database.client.query("""
            INSERT INTO envmon.setting (key, value) VALUES ('feed_time_zone', \(zone.identifier))
            ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value
            """, logger: database.logger)
    }
}

/// The stored feed time zone is not one this machine's zone database knows.
public struct FeedZoneUnknown: Error, Sendable, CustomStringConvertible {
    public let name: String
    public var description: String {
        "the feed time zone '\(name)' (envmon.setting feed_time_zone) is not a known IANA time zone"
    }
}
