public import EnvMonDomain
import EnvMonStore
public import Foundation
public import Logging

/// What the command line can ask of envmon. Each operation opens the configured database (the
/// embedded cluster is started and migrated on demand; a configured server must be current),
/// does one thing, and closes it. The `envmon` executable parses arguments and calls these; it
/// never touches the store or SQL itself.
///
/// ```swift
/// let operations = Operations(runtime: RuntimeConfiguration(), logger: logger)
/// let uploads = try await operations.uploads(limit: 20, kind: .emissions)
/// ```
public struct Operations: Sendable {
    public let runtime: RuntimeConfiguration
    public let logger: Logger

    public init(runtime: RuntimeConfiguration, logger: Logger) {
        self.runtime = runtime
        self.logger = logger
    }

    func withDatabase<Result: Sendable>(
        requireSchema: Bool = true, _ body: @Sendable (Database) async throws -> Result
    ) async throws -> Result {
        try await runtime.withDatabase(logger: logger, requireSchema: requireSchema, body)
    }

    // MARK: Ingest and the archive

    /// Archives and loads `files` one after another; an unreadable file is reported, not thrown.
    /// `progress` hears the file's index and how far its load has read.
    public func ingest(
        files: [URL], request: IngestRequest, progress: (@Sendable (Int, IngestProgress) -> Void)? = nil
    ) async throws -> [IngestReport] {
        try await withDatabase { db in
            let service = IngestService(database: db)
            var reports: [IngestReport] = []
            for (index, url) in files.enumerated() {
                var request = request
                request.fileName = url.lastPathComponent
                if let problem = Self.unreadable(url) {
                    reports.append(.unreadable(file: url.path, kind: request.kind, reason: problem))
                    continue
                }
                var perFile: (@Sendable (IngestProgress) -> Void)?
                if let progress { perFile = { progress(index, $0) } }
                let report = try await service.ingest(file: url, request: request, progress: perFile)
                reports.append(report)
            }
            return reports
        }
    }

    /// Why `url` cannot be ingested as a file, or nil.
    static func unreadable(_ url: URL) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else { return "no such file" }
        if isDirectory.boolValue { return "it is a directory, not a file" }
        guard FileManager.default.isReadableFile(atPath: url.path) else { return "permission denied" }
        return nil
    }

    /// The newest uploads first.
    public func uploads(limit: Int, kind: FeedKind?) async throws -> [UploadRecord] {
        try await withDatabase { try await UploadQueries(database: $0).list(limit: limit, kind: kind) }
    }

    /// One upload, and its rejected rows when asked.
    public func upload(id: Int64, withRejections: Bool) async throws -> (UploadRecord, [RejectionRecord]) {
        try await withDatabase { db in
            let queries = UploadQueries(database: db)
            guard let upload = try await queries.upload(id: id) else { throw EnvMonError.notFound("no upload with id \(id)") }
            return (upload, withRejections ? try await queries.rejections(uploadID: id) : [])
        }
    }

    /// Where the job of an unfinished upload stands (who holds it, whether its lease expired).
    public func job(uploadID: Int64) async throws -> JobState? {
        try await withDatabase { try await JobQueue(database: $0).job(uploadID: uploadID) }
    }

    /// Writes the exact bytes received for an upload, chunk by chunk.
    public func raw(id: Int64, write: @escaping @Sendable (Data) throws -> Void) async throws {
        try await withDatabase { try await UploadArchive(database: $0).raw(id: id, write: write) }
    }

    /// Undoes a loaded upload.
    public func revert(id: Int64) async throws -> RevertResult {
        try await withDatabase { db in
            let result = try await UploadRevert(database: db).revert(uploadID: id)
            try await AuditLog(database: db).record(.localCommand, "upload.revert", subject: "upload \(id)",
                                                    summary: "\(result.rowsRemoved) rows removed, \(result.rowsRestored) restored")
            return result
        }
    }

    /// The audit trail, newest first (`envmon audit`).
    public func auditEvents(since: Date?, actor: String?, limit: Int) async throws -> [AuditEvent] {
        try await withDatabase { try await AuditLog(database: $0).events(since: since, actor: actor, limit: limit) }
    }
}
