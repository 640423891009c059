public import EnvMonDomain
import Foundation
import Logging
import PostgresNIO

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
    public func list(limit: Int = 50, kind: FeedKind? = nil) async throws -> [UploadRecord] {
        var binds = PostgresBindings()
        binds.append(limit)
        binds.append(kind?.rawValue)
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
            let table = "envmon.upload"
            result.append(UploadRecord(
                id: try r["id"].decode(Int64.self), kind: try r.word("kind", FeedKind.self, view: table),
                fileName: try r["file_name"].decode(String?.self), uploader: try r["uploader"].decode(String.self),
                source: try r.word("source", UploadSource.self, view: table),
                receivedAt: try r["received_at"].decode(Date.self), sha256: try r["sha256"].decode(String.self),
                sizeBytes: try r["size_bytes"].decode(Int64.self), format: try r["format"].decode(String?.self),
                encoding: try r["encoding"].decode(String?.self), status: try r.word("status", UploadStatus.self, view: table),
                duplicateOf: try r["duplicate_of"].decode(Int64?.self), rowsTotal: try r.int("rows_total"),
                rowsLoaded: try r.int("rows_loaded"), rowsUnchanged: try r.int("rows_unchanged"),
                rowsRejected: try r.int("rows_rejected"), rowsSkipped: try r.int("rows_skipped"),
                rowsSuperseded: try r.int("rows_superseded"), error: try r["error"].decode(String?.self),
                finishedAt: try r["finished_at"].decode(Date?.self), revertedAt: try r["reverted_at"].decode(Date?.self)))
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

    /// The archive file an upload's raw bytes were moved to (`envmon db archive`), nil when
    /// they are in the database.
    public func archivedIn(uploadID: Int64) async throws -> String? {
        let rows = try await database.client.query("""
            SELECT file FROM envmon.data_archive
            WHERE restored_at IS NULL AND \(uploadID) = ANY(upload_ids)
            ORDER BY id DESC LIMIT 1
            """, logger: database.logger)
        for try await file in rows.decode(String.self) { return file }
        return nil
    }
}
