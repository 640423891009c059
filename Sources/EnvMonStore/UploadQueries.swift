public import Foundation
import Logging
import PostgresNIO

/// One upload as the archive shows it.
public struct UploadRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var kind: String
    public var fileName: String?
    public var uploader: String
    public var source: String
    public var receivedAt: Date
    public var sha256: String
    public var sizeBytes: Int64
    public var format: String?
    public var encoding: String?
    public var status: String
    public var duplicateOf: Int64?
    public var rowsTotal: Int?
    public var rowsLoaded: Int?
    public var rowsUnchanged: Int?
    public var rowsRejected: Int?
    public var rowsSkipped: Int?
    public var rowsSuperseded: Int?
    public var error: String?
    public var finishedAt: Date?
    public var revertedAt: Date?
}

/// One rejected row (or cell) of an upload.
public struct RejectionRecord: Sendable, Codable, Equatable {
    public var line: Int
    public var column: String?
    public var value: String?
    public var reason: String
}

/// Reads the archive back.
public struct UploadQueries: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    static let columns = """
        id, kind, file_name, uploader, source, received_at, sha256, size_bytes, format, encoding, status,
        duplicate_of, rows_total, rows_loaded, rows_unchanged, rows_rejected, rows_skipped, rows_superseded,
        error, finished_at, reverted_at
        """

    public func upload(id: Int64) async throws -> UploadRecord? {
        try await fetch(PostgresQuery(unsafeSQL: "SELECT \(Self.columns) FROM envmon.upload WHERE id = $1",
                                      binds: FactLoader.binds(id))).first
    }

    /// The newest uploads first.
    public func list(limit: Int = 50, kind: String? = nil) async throws -> [UploadRecord] {
        var binds = PostgresBindings()
        binds.append(limit)
        binds.append(kind)
        return try await fetch(PostgresQuery(unsafeSQL: """
            SELECT \(Self.columns) FROM envmon.upload WHERE ($2::text IS NULL OR kind = $2)
            ORDER BY id DESC LIMIT $1
            """, binds: binds))
    }

    public func rejections(uploadID: Int64, limit: Int = 1_000_000, offset: Int = 0) async throws -> [RejectionRecord] {
        let rows = try await database.client.query("""
            SELECT line, column_name, raw_value, reason FROM envmon.upload_rejection
            WHERE upload_id = \(uploadID) ORDER BY line, id LIMIT \(limit) OFFSET \(offset)
            """, logger: database.logger)
        var result: [RejectionRecord] = []
        for try await (line, column, value, reason) in rows.decode((Int, String?, String?, String).self) {
            result.append(RejectionRecord(line: line, column: column, value: value, reason: reason))
        }
        return result
    }

    private func fetch(_ query: PostgresQuery) async throws -> [UploadRecord] {
        let rows = try await database.client.query(query, logger: database.logger)
        var result: [UploadRecord] = []
        for try await row in rows {
            let r = row.makeRandomAccess()
            result.append(UploadRecord(
                id: try r[0].decode(Int64.self), kind: try r[1].decode(String.self),
                fileName: try r[2].decode(String?.self), uploader: try r[3].decode(String.self),
                source: try r[4].decode(String.self), receivedAt: try r[5].decode(Date.self),
                sha256: try r[6].decode(String.self), sizeBytes: try r[7].decode(Int64.self),
                format: try r[8].decode(String?.self), encoding: try r[9].decode(String?.self),
                status: try r[10].decode(String.self), duplicateOf: try r[11].decode(Int64?.self),
                rowsTotal: try r[12].decode(Int?.self), rowsLoaded: try r[13].decode(Int?.self),
                rowsUnchanged: try r[14].decode(Int?.self), rowsRejected: try r[15].decode(Int?.self),
                rowsSkipped: try r[16].decode(Int?.self), rowsSuperseded: try r[17].decode(Int?.self),
                error: try r[18].decode(String?.self), finishedAt: try r[19].decode(Date?.self),
                revertedAt: try r[20].decode(Date?.self)))
        }
        return result
    }
}

extension UploadQueries {
    /// The id of the newest upload that finished loading or failing (the evaluator's trigger).
    public func newestFinishedUpload() async throws -> Int64? {
        var newest: Int64?
        for try await id in try await database.client.query(
            "SELECT max(id) FROM envmon.upload WHERE status IN ('loaded', 'failed', 'reverted')", logger: database.logger
        ).decode(Int64?.self) { newest = id }
        return newest
    }
}
