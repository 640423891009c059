import Crypto
public import EnvMonDomain
import Foundation
import Logging
import PostgresNIO

/// The registered HJ 212 data loggers (`envmon.hj212_device`).
public struct DataLoggerStore: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// The SHA-256 of a device password, as stored and compared.
    static func passwordHash(_ password: String) -> [UInt8] {
        Array(SHA256.hash(data: Array(password.utf8)))
    }

    /// Registers a device; an MN registered before (even retired) is a conflict.
    public func add(mn: String, password: String, enterpriseID: String, outletID: String, name: String?,
                    createdBy: String) async throws -> DataLogger {
        let hash = Self.passwordHash(password)
        let logger = database.logger
        do {
            return try await database.client.withTransaction(logger: logger) { tx in
                let rows = try await tx.query("""
                    INSERT INTO envmon.hj212_device (mn, password_sha256, enterprise_id, outlet_id, name, created_by)
                    VALUES (\(mn), \(ByteBuffer(bytes: hash)), \(enterpriseID), \(outletID), \(name), \(createdBy))
                    RETURNING mn, enterprise_id, outlet_id, name, created_by, created_at, retired_at
                    """, logger: logger)
                guard let device = try await Self.devices(rows).first else {
                    throw EnvMonError.invalid("device \(mn) was not added")
                }
                // The enterprise and outlet are key sources whether or not data came yet.
                try await tx.query("""
                    INSERT INTO envmon.site (kind, site_id, name) VALUES ('enterprise', \(enterpriseID), NULL)
                    ON CONFLICT (kind, parent_id, site_id) DO NOTHING
                    """, logger: logger)
                try await tx.query("""
                    INSERT INTO envmon.site (kind, parent_id, site_id) VALUES ('outlet', \(enterpriseID), \(outletID))
                    ON CONFLICT (kind, parent_id, site_id) DO NOTHING
                    """, logger: logger)
                return device
            }
        } catch where DatabaseFailure.isUniqueViolation(error) {
            throw EnvMonError.conflict("a device with MN \(mn) is registered already (retired devices keep their MN)")
        }
    }

    /// Every device, oldest first.
    public func list() async throws -> [DataLogger] {
        try await Self.devices(database.client.query("""
            SELECT mn, enterprise_id, outlet_id, name, created_by, created_at, retired_at
            FROM envmon.hj212_device ORDER BY created_at, mn
            """, logger: database.logger))
    }

    /// Retires a device: its packets are refused from now on (`unknown_device`).
    public func retire(mn: String, by actor: String) async throws -> DataLogger {
        let rows = try await database.client.query("""
            UPDATE envmon.hj212_device SET retired_at = now(), retired_by = \(actor)
            WHERE mn = \(mn) AND retired_at IS NULL
            RETURNING mn, enterprise_id, outlet_id, name, created_by, created_at, retired_at
            """, logger: database.logger)
        if let device = try await Self.devices(rows).first { return device }
        if try await list().contains(where: { $0.mn == mn }) {
            throw EnvMonError.conflict("device \(mn) is retired already")
        }
        throw EnvMonError.notFound("no device with MN \(mn)")
    }

    private static func devices(_ rows: PostgresRowSequence) async throws -> [DataLogger] {
        var result: [DataLogger] = []
        for try await (mn, enterprise, outlet, name, createdBy, createdAt, retiredAt)
            in rows.decode((String, String, String, String?, String, Date, Date?).self) {
            result.append(DataLogger(mn: mn, enterpriseID: enterprise, outletID: outlet, name: name, createdBy: createdBy,
                                     createdAt: createdAt, retiredAt: retiredAt))
        }
        return result
    }
}
