import EnvMonDomain
import EnvMonStore
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore

/// `POST /v1/uploads`, `GET /v1/uploads/{id}`, `GET /v1/uploads/{id}/rejections`.
struct UploadController {
    /// The primary: uploads, reverts.
    let database: Database
    /// The reads of `GET /v1/uploads/…` (an upload not yet on the standby is looked up on the primary).
    let reads: ReadSource
    let configuration: ServerConfiguration
    let metrics: ServiceMetrics
    let limiter: UploadRateLimiter

    init(database: Database, reads: ReadSource, configuration: ServerConfiguration, metrics: ServiceMetrics) {
        self.database = database
        self.reads = reads
        self.configuration = configuration
        self.metrics = metrics
        self.limiter = UploadRateLimiter(perMinute: configuration.uploadsPerMinute)
    }

    func addUploadRoutes(to group: RouterGroup<APIContext>) {
        group.post("uploads", use: upload)
    }

    func addReadRoutes(to group: RouterGroup<APIContext>) {
        group.get("uploads/{id}", use: show)
        group.get("uploads/{id}/rejections", use: rejections)
        group.get("uploads/{id}/file", use: file)
    }

    func addAdminRoutes(to group: RouterGroup<APIContext>) {
        group.post("uploads/{id}/revert", use: revert)
    }

    /// The exact bytes received, streamed from the archive, under the name they were sent with.
    @Sendable func file(request: Request, context: APIContext) async throws -> Response {
        let id = try Self.uploadID(context)
        guard let (upload, found) = try await reads.find({ try await UploadQueries(database: $0).upload(id: id) }) else {
            throw APIError.notFound("no upload with id \(id)")
        }
        // The bytes stream from where the upload was found (no retry once streaming began).
        if let file = try await UploadQueries(database: found).archivedIn(uploadID: upload.duplicateOf ?? id) {
            throw APIError(.gone, error: "archived",
                           detail: "the raw bytes of upload \(id) were moved out of the database (\((file as NSString).lastPathComponent)); an administrator can restore them")
        }
        let archive = UploadArchive(database: found)
        let body = ResponseBody { writer in
            try await archive.chunks(id: id) { try await writer.write($0) }
            try await writer.finish(nil)
        }
        let name = upload.fileName.flatMap { $0.isEmpty ? nil : $0 } ?? "upload-\(id)"
        return Response(status: .ok, headers: [
            .contentType: "application/octet-stream",
            .contentDisposition: Self.attachment(name),
        ], body: body)
    }

    /// `attachment` with an ASCII fallback name and the real one in RFC 5987 form (Chinese names).
    static func attachment(_ name: String) -> String {
        let ascii = String(name.unicodeScalars.map { scalar -> Character in
            scalar.isASCII && scalar.value >= 0x20 && scalar != "\"" && scalar != "\\" && scalar != ";" ? Character(scalar) : "_"
        })
        var allowed = CharacterSet.alphanumerics.intersection(CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        let encoded = name.addingPercentEncoding(withAllowedCharacters: allowed) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }

    /// Undoes a loaded upload (admins): its rows removed, the values it superseded restored.
    @Sendable func revert(request: Request, context: APIContext) async throws -> Response {
        let id = try Self.uploadID(context)
        do {
            let result = try await UploadRevert(database: database).revert(uploadID: id)
            try await AuditLog(database: database).record(
                try context.auditActor(), "upload.revert", subject: "upload \(id)",
                summary: "\(result.rowsRemoved) rows removed, \(result.rowsRestored) restored")
            return try JSONBody.response(result)
        } catch {
            if let error = Database.unwrap(error) as? EnvMonError {
                switch error.kind {
                case .notFound: throw APIError.notFound(error.message)
                case .conflict: throw APIError(.conflict, error: "not_loaded", detail: error.message)
                default: break
                }
            }
            throw error
        }
    }

    /// The answer to an accepted upload.
    struct Accepted: Encodable {
        var id: Int64
        var status: String
        var sha256: String
        var duplicateOf: Int64?

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(status, forKey: .status)
            try container.encode(sha256, forKey: .sha256)
            try container.encode(duplicateOf, forKey: .duplicateOf)  // null when queued
        }

        enum CodingKeys: String, CodingKey { case id, status, sha256, duplicateOf }
    }

    /// Archives the body with a queued job in one transaction, then answers 202.
    @Sendable func upload(request: Request, context: APIContext) async throws -> Response {
        let token = try context.requireToken()
        if let wait = limiter.take(token: token.id) {
            var error = APIError(.tooManyRequests, error: "rate_limited",
                                 detail: "the token '\(token.name)' may start \(configuration.uploadsPerMinute) uploads a minute; retry in \(wait) s")
            if let name = HTTPField.Name("Retry-After") { error.headers[name] = "\(wait)" }
            throw error
        }
        var ingest = try Self.ingestRequest(request.uri.queryParameters, uploader: token.name)
        ingest.source = .http
        ingest.origin = "http \(context.remoteAddress ?? "unknown")"
        ingest.signedInUser = context.session?.user.name
        let header = request.headers[.contentType] ?? ""
        let (mediaType, parameters) = UploadMediaType.parse(header)
        guard mediaType == UploadMediaType.multipart || UploadMediaType.formats[mediaType] != nil else {
            throw APIError(.unsupportedMediaType, error: "unsupported_media_type",
                           detail: "Content-Type '\(header.isEmpty ? "(none)" : header)' is not accepted; send one of \(UploadMediaType.allowed.joined(separator: ", "))")
        }
        let limit = configuration.maxUploadBytes
        if let length = request.headers[.contentLength].flatMap({ Int64($0) }), length > limit {
            throw APIError.tooLarge(limit: limit)
        }
        let receiver = UploadReceiver(directory: configuration.temporaryDirectory, limit: limit)
        let file = try await receiver.receive(
            request.body, mediaType: mediaType,
            boundary: mediaType == UploadMediaType.multipart ? (parameters["boundary"] ?? "") : nil)
        defer { try? FileManager.default.removeItem(at: file.url) }
        guard file.size > 0 else { throw APIError.unprocessable("empty_body", "the upload is empty; send the file's bytes") }
        if ingest.format == .auto, let type = file.mediaType, let implied = UploadMediaType.formats[type] {
            ingest.format = implied
        }
        ingest.fileName = file.fileName ?? request.uri.queryParameters["file_name"].map(String.init)
        let surveyed = SurveyedFile(url: file.url, sha256: file.sha256, size: file.size,
                                    detectedEncoding: file.detectedEncoding)
        let stored = try await Intake(database: database).accept(surveyed, request: ingest)
        var logger = context.logger
        logger[metadataKey: "envmon.upload.id"] = "\(stored.uploadID)"
        let accepted: Accepted
        switch stored {
        case .queued(let id):
            accepted = Accepted(id: id, status: "queued", sha256: file.sha256, duplicateOf: nil)
        case .duplicate(let id, let original):
            accepted = Accepted(id: id, status: "duplicate", sha256: file.sha256, duplicateOf: original)
        }
        metrics.upload(status: accepted.status, source: "http")
        logger.info("upload accepted", metadata: [
            "envmon.upload.status": "\(accepted.status)", "envmon.upload.bytes": "\(file.size)",
            "envmon.upload.kind": "\(ingest.kind.rawValue)",
        ])
        return try JSONBody.response(accepted, status: .accepted, headers: [.location: "/v1/uploads/\(accepted.id)"])
    }

    /// The query string of `POST /v1/uploads` as an ingest request; 422 for unknown values.
    static func ingestRequest(_ query: Parameters, uploader: String) throws -> IngestRequest {
        guard let rawKind = query["kind"], !rawKind.isEmpty else {
            throw APIError.unprocessable("missing_kind", "name the feed kind: ?kind= one of \(FeedKind.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard let kind = FeedKind(rawValue: String(rawKind)) else {
            throw APIError.notAllowed("kind", rawKind, allowed: FeedKind.allCases.map(\.rawValue))
        }
        var request = IngestRequest(kind: kind, uploader: uploader)
        if let raw = query["format"] {
            guard let format = FeedFormat(rawValue: String(raw)) else {
                throw APIError.notAllowed("format", raw, allowed: FeedFormat.allCases.map(\.rawValue))
            }
            request.format = format
        }
        if let raw = query["encoding"] {
            guard let encoding = FeedEncoding(rawValue: raw.lowercased()) else {
                throw APIError.notAllowed("encoding", raw, allowed: FeedEncoding.allCases.map(\.rawValue))
            }
            request.encoding = encoding
        }
        if let raw = query["time_zone"] {
            guard let zone = TimeZone(identifier: String(raw)) else {
                throw APIError.unprocessable("unknown_time_zone", "unknown time zone '\(raw)'; use an IANA name such as Asia/Shanghai")
            }
            request.timeZone = zone
        }
        if let raw = query["year"] {
            guard let year = Int(raw), (1900...2200).contains(year) else {
                throw APIError.unprocessable("bad_year", "year '\(raw)' is not a year between 1900 and 2200")
            }
            request.year = year
        }
        if let raw = query["delimiter"] {
            switch raw {
            case ",": request.delimiter = UInt8(ascii: ",")
            case ";": request.delimiter = UInt8(ascii: ";")
            case "tab", "\t": request.delimiter = UInt8(ascii: "\t")
            default: throw APIError.notAllowed("delimiter", raw, allowed: [",", ";", "tab"])
            }
        }
        if let raw = query["sheet"] {
            guard !raw.isEmpty, raw.utf8.count <= 255, !raw.contains("\0") else {
                throw APIError.unprocessable("bad_sheet", "sheet must name a sheet of the workbook (1 to 255 bytes) or give its number")
            }
            request.sheet = String(raw)
        }
        if let raw = query["max_rejected_share"] {
            guard let share = Double(raw), (0...1).contains(share) else {
                throw APIError.unprocessable("bad_max_rejected_share", "max_rejected_share '\(raw)' must be a number from 0 to 1")
            }
            request.maxRejectedShare = share
        }
        return request
    }

    @Sendable func show(request: Request, context: APIContext) async throws -> Response {
        let id = try Self.uploadID(context)
        guard let (upload, _) = try await reads.find({ try await UploadQueries(database: $0).upload(id: id) }) else {
            throw APIError.notFound("no upload with id \(id)")
        }
        return try JSONBody.response(upload)
    }

    struct RejectionPage: Encodable {
        var uploadId: Int64
        var total: Int
        var limit: Int
        var offset: Int
        var rejections: [RejectionRecord]
    }

    /// JSON pages (`?limit=&offset=`), or `?format=csv`: every rejection as a spreadsheet, with a
    /// UTF-8 BOM so that Excel shows Chinese, streamed in pages.
    @Sendable func rejections(request: Request, context: APIContext) async throws -> Response {
        let id = try Self.uploadID(context)
        guard let (_, found) = try await reads.find({ try await UploadQueries(database: $0).upload(id: id) }) else {
            throw APIError.notFound("no upload with id \(id)")
        }
        // The CSV streams from where the upload was found (no retry once streaming began).
        let queries = UploadQueries(database: found)
        let query = request.uri.queryParameters
        switch query["format"].map(String.init) ?? "json" {
        case "json":
            let (limit, offset) = try Paging.read(query, defaultLimit: 100, maximum: 10_000)
            let (rows, total) = try await reads.run(after: found) { db in
                (try await UploadQueries(database: db).rejections(uploadID: id, limit: limit, offset: offset),
                 try await ServiceQueries(database: db).rejectionCount(uploadID: id))
            }
            return try JSONBody.response(RejectionPage(uploadId: id, total: total, limit: limit, offset: offset, rejections: rows))
        case "csv":
            let body = ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: [0xEF, 0xBB, 0xBF] + Array("line,column,value,reason\r\n".utf8)))
                var offset = 0
                let page = 5_000
                while true {
                    let rows = try await queries.rejections(uploadID: id, limit: page, offset: offset)
                    var buffer = ByteBuffer()
                    for row in rows {
                        buffer.writeString([String(row.line), CSVField.quote(row.column ?? ""), CSVField.quote(row.value ?? ""),
                                            CSVField.quote(row.reason)].joined(separator: ",") + "\r\n")
                    }
                    if buffer.readableBytes > 0 { try await writer.write(buffer) }
                    if rows.count < page { break }
                    offset += page
                }
                try await writer.finish(nil)
            }
            return Response(status: .ok, headers: [
                .contentType: "text/csv; charset=utf-8",
                .contentDisposition: "attachment; filename=\"upload-\(id)-rejections.csv\"",
            ], body: body)
        case let other:
            throw APIError.notAllowed("format", other, allowed: ["json", "csv"])
        }
    }

    static func uploadID(_ context: APIContext) throws -> Int64 {
        guard let id = context.parameters.get("id", as: Int64.self), id > 0 else {
            throw APIError.notFound("upload ids are positive whole numbers")
        }
        return id
    }
}

/// `?limit=&offset=` with bounds.
enum Paging {
    static func read(_ query: Parameters, defaultLimit: Int, maximum: Int) throws -> (limit: Int, offset: Int) {
        var limit = defaultLimit
        var offset = 0
        if let raw = query["limit"] {
            guard let value = Int(raw), (1...maximum).contains(value) else {
                throw APIError.unprocessable("bad_limit", "limit '\(raw)' must be a whole number from 1 to \(maximum)")
            }
            limit = value
        }
        if let raw = query["offset"] {
            guard let value = Int(raw), value >= 0, value <= 100_000_000 else {
                throw APIError.unprocessable("bad_offset", "offset '\(raw)' must be a whole number, 0 or more")
            }
            offset = value
        }
        return (limit, offset)
    }
}

/// RFC 4180 quoting, as Excel reads it.
/// One CSV cell of a report people open in Excel or WPS: quoted when needed, and defused when
/// it would start a formula (`=HYPERLINK(…)`, `+cmd`, `@SUM`, a leading tab or CR) by a leading
/// apostrophe, which spreadsheets show as text. Signed numbers (`-5`, `+3.2`) stay as they are.
enum CSVField {
    static func quote(_ text: String) -> String {
        let cell = defused(text)
        guard cell.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return cell }
        return "\"" + cell.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    static func defused(_ text: String) -> String {
        guard let first = text.unicodeScalars.first, ["=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠"].contains(first)
        else { return text }
        if first == "-" || first == "+", Double(text.dropFirst()) != nil, text.dropFirst().allSatisfy({ $0.isNumber || $0 == "." }) {
            return text
        }
        return "'" + text
    }
}
