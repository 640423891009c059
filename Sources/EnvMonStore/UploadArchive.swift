public import EnvMonDomain
public import Foundation
import Logging
public import NIOCore
import PostgresNIO

/// The archive of every upload: raw bytes in chunks, SHA-256, who sent it, when, and its outcome.
public struct UploadArchive: Sendable {
    /// Chunk size of stored bytes: neither side ever holds a whole file.
    static let chunkSize = 1 << 20

    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What is known about an upload before its bytes are stored.
    public struct NewUpload: Sendable {
        public var kind: FeedKind
        public var fileName: String?
        public var uploader: String
        public var source: UploadSource
        public var format: FeedFormat
        public var encoding: String
        public var sha256: String
        public var size: Int64
        public var options: [String: String]

        public init(kind: FeedKind, fileName: String?, uploader: String, source: UploadSource = .cli, format: FeedFormat,
                    encoding: String, sha256: String, size: Int64, options: [String: String] = [:]) {
            self.kind = kind
            self.fileName = fileName
            self.uploader = uploader
            self.source = source
            self.format = format
            self.encoding = encoding
            self.sha256 = sha256
            self.size = size
            self.options = options
        }
    }

    /// Whether the bytes were new or repeat an earlier original upload.
    public enum Stored: Sendable, Equatable {
        case original(id: Int64)
        case duplicate(id: Int64, of: Int64)

        public var id: Int64 {
            switch self {
            case .original(let id), .duplicate(let id, _): return id
            }
        }
    }

    /// Records the upload and stores the file's bytes in one transaction — unless the same bytes
    /// of the same kind are already an original upload: then only a duplicate row is stored,
    /// pointing at it. With `queue`, an ingest job is committed with the upload.
    public func store(_ upload: NewUpload, file: URL, queue: Bool = false) async throws -> Stored {
        let logger = database.logger
        let options = String(decoding: try JSONEncoder().encode(upload.options), as: UTF8.self)
        return try await database.client.withTransaction(logger: logger) { tx in
            var newID: Int64?
            let status = queue ? "queued" : "received"
            let inserted = try await tx.query("""
                INSERT INTO envmon.upload (kind, file_name, uploader, source, sha256, size_bytes, format, encoding, options, status)
                VALUES (\(upload.kind.rawValue), \(upload.fileName), \(upload.uploader), \(upload.source.rawValue), \(upload.sha256),
                        \(upload.size), \(upload.format.rawValue), \(upload.encoding), \(options)::jsonb, \(status))
                ON CONFLICT (kind, sha256) WHERE duplicate_of IS NULL AND status NOT IN ('failed', 'reverted') DO NOTHING
                RETURNING id
                """, logger: logger)
            for try await id in inserted.decode(Int64.self) { newID = id }
            guard let id = newID else {
                var original: Int64 = 0
                for try await id in try await tx.query("""
                    SELECT id FROM envmon.upload WHERE kind = \(upload.kind.rawValue) AND sha256 = \(upload.sha256)
                      AND duplicate_of IS NULL AND status NOT IN ('failed', 'reverted')
                    """, logger: logger).decode(Int64.self) { original = id }
                var duplicateID: Int64 = 0
                for try await id in try await tx.query("""
                    INSERT INTO envmon.upload (kind, file_name, uploader, source, sha256, size_bytes, format, encoding,
                                               options, status, duplicate_of, finished_at)
                    VALUES (\(upload.kind.rawValue), \(upload.fileName), \(upload.uploader), \(upload.source.rawValue),
                            \(upload.sha256), \(upload.size), \(upload.format.rawValue), \(upload.encoding),
                            \(options)::jsonb, 'duplicate', \(original), now())
                    RETURNING id
                    """, logger: logger).decode(Int64.self) { duplicateID = id }
                return .duplicate(id: duplicateID, of: original)
            }
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            var seq: Int32 = 0
            while let data = try handle.read(upToCount: Self.chunkSize), !data.isEmpty {
                let bytes = ByteBuffer(bytes: data)
                try await tx.query(
                    "INSERT INTO envmon.upload_chunk (upload_id, seq, data) VALUES (\(id), \(seq), \(bytes))",
                    logger: logger)
                seq += 1
            }
            if queue {
                try await tx.query("INSERT INTO envmon.ingest_job (upload_id) VALUES (\(id))", logger: logger)
            }
            return .original(id: id)
        }
    }

    /// Passes the exact bytes received for an upload (a duplicate's are its original's) to
    /// `body`, chunk by chunk as the database sends them (a chunk at a time in memory).
    public func chunks(id: Int64, _ body: (ByteBuffer) async throws -> Void) async throws {
        guard let upload = try await UploadQueries(database: database).upload(id: id) else {
            throw EnvMonError.notFound("no upload with id \(id)")
        }
        let source = upload.duplicateOf ?? id
        try await Self.requireInDatabase(source, database)
        let rows = try await database.client.query(
            "SELECT data FROM envmon.upload_chunk WHERE upload_id = \(source) ORDER BY seq", logger: database.logger)
        for try await buffer in rows.decode(ByteBuffer.self) {
            try await body(buffer)
        }
    }

    /// Fails, naming the file, when an upload's raw bytes were archived (`envmon db archive`).
    static func requireInDatabase(_ id: Int64, _ database: Database) async throws {
        if let file = try await UploadQueries(database: database).archivedIn(uploadID: id) {
            throw EnvMonError.conflict("the raw bytes of upload \(id) were archived to \(file); `envmon db restore-archive` brings them back")
        }
    }

    /// Writes the exact bytes received for an upload (a duplicate's are its original's), chunk by
    /// chunk, to `write`.
    public func raw(id: Int64, write: (Data) throws -> Void) async throws {
        let logger = database.logger
        guard let upload = try await UploadQueries(database: database).upload(id: id) else {
            throw EnvMonError.notFound("no upload with id \(id)")
        }
        let source = upload.duplicateOf ?? id
        try await Self.requireInDatabase(source, database)
        let rows = try await database.client.query(
            "SELECT data FROM envmon.upload_chunk WHERE upload_id = \(source) ORDER BY seq", logger: logger)
        for try await buffer in rows.decode(ByteBuffer.self) {
            try write(Data(buffer.readableBytesView))
        }
    }
}
