import Crypto
public import EnvMonDomain
import EnvMonIngest
public import EnvMonStore
public import Foundation
import Logging

/// A file on disk with what one pass over its bytes told: its SHA-256, size and encoding.
public struct SurveyedFile: Sendable {
    public var url: URL
    public var sha256: String
    public var size: Int64
    public var detectedEncoding: FeedEncoding

    public init(url: URL, sha256: String, size: Int64, detectedEncoding: FeedEncoding) {
        self.url = url
        self.sha256 = sha256
        self.size = size
        self.detectedEncoding = detectedEncoding
    }

    /// Bytes read at a time. Each read becomes a batch of rows that lives in several forms at
    /// once (text, cells, records, COPY data); 256 KiB keeps that to a few MB (1 MiB reads
    /// took peak RSS from 85 MB to 160 MB at 1 M rows) at no measurable cost in speed.
    static let readSize = 1 << 18

    /// Reads `url` once: SHA-256, size and the encoding sniffer's verdict.
    public static func survey(_ url: URL) throws -> SurveyedFile {
        let handle = try FileHandle(forReadingFrom: url)
        defer { try? handle.close() }
        var hasher = SHA256()
        var sniffer = EncodingSniffer()
        var size: Int64 = 0
        while let data = try handle.read(upToCount: readSize), !data.isEmpty {
            hasher.update(data: data)
            data.withUnsafeBytes { sniffer.consume($0) }
            size += Int64(data.count)
        }
        return SurveyedFile(url: url, sha256: hex(hasher.finalize()), size: size, detectedEncoding: sniffer.finish())
    }

    static func hex(_ digest: SHA256.Digest) -> String {
        digest.map { String(format: "%02x", $0) }.joined()
    }
}

/// The one way an upload enters envmon, whatever brought it (the CLI, `POST /v1/uploads`, the
/// inbox folder): its bytes are archived with a queued ingest job in one transaction, before a
/// byte is parsed — or, when the same bytes of the same kind are already an original upload,
/// a duplicate is recorded pointing at it. Loading is the job's: a worker of `envmon serve`, or
/// the command that sent the file (`IngestService`).
public struct Intake: Sendable {
    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// What became of an accepted file.
    public enum Accepted: Sendable, Equatable {
        /// Archived as a new original with its job queued.
        case queued(uploadID: Int64)
        /// The same bytes as upload `original`: recorded as `uploadID`, nothing to load.
        case duplicate(uploadID: Int64, original: Int64)

        public var uploadID: Int64 {
            switch self {
            case .queued(let id), .duplicate(let id, _): id
            }
        }
    }

    /// Archives `file` as `request` describes it, with its job queued.
    public func accept(_ file: SurveyedFile, request: IngestRequest) async throws -> Accepted {
        if let name = request.fileName { try FreeText.checked(name, field: "the file name", maximumLength: 255) }
        try FreeText.checked(request.uploader, field: "the uploader", maximumLength: 200)
        let encoding = request.encoding == .auto ? file.detectedEncoding : request.encoding
        let stored = try await UploadArchive(database: database).store(
            .init(kind: request.kind, fileName: request.fileName,
                  uploader: request.uploader, source: request.source, format: request.format,
                  encoding: encoding.rawValue, sha256: file.sha256, size: file.size, options: request.storedOptions),
            file: file.url, queue: true)
        var logger = database.logger
        logger[metadataKey: "envmon.upload.id"] = "\(stored.id)"
        let actor = AuditActor(
            name: request.signedInUser.map { "user:\($0)" }
                ?? (request.source == .http ? "token:\(request.uploader)" : request.source == .inbox ? "inbox" : "cli:\(request.uploader)"),
            origin: request.origin ?? "\(request.source.rawValue) \(ProcessInfo.processInfo.hostName)")
        let what = "\(request.kind.rawValue) \(request.fileName ?? "-") (\(file.size) bytes, sha256 \(file.sha256.prefix(12)))"
        switch stored {
        case .original(let id):
            try await AuditLog(database: database).record(actor, "upload.create", subject: "upload \(id)", summary: what)
            logger.info("upload queued", metadata: [
                "envmon.upload.source": "\(request.source.rawValue)", "envmon.upload.bytes": "\(file.size)",
                "envmon.upload.kind": "\(request.kind.rawValue)"])
            return .queued(uploadID: id)
        case .duplicate(let id, let original):
            try await AuditLog(database: database).record(actor, "upload.duplicate", subject: "upload \(id)",
                                                          summary: "\(what), same bytes as upload \(original)")
            logger.info("duplicate upload", metadata: ["envmon.upload.duplicate_of": "\(original)"])
            return .duplicate(uploadID: id, original: original)
        }
    }
}
