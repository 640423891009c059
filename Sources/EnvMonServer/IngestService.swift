import Crypto
public import EnvMonDomain
import EnvMonIngest
public import EnvMonStore
public import Foundation
import Logging

/// How one file is to be ingested.
public struct IngestRequest: Sendable {
    public var kind: FeedKind
    public var format: FeedFormat = .auto
    public var encoding: FeedEncoding = .auto
    public var uploader: String
    public var fileName: String?
    public var source: String = "cli"
    public var timeZone: TimeZone = FeedDefaults.timeZone
    public var year: Int?
    public var delimiter: UInt8?
    /// Uploads whose rejected share exceeds this fail as a whole (FEEDS.md default 50%).
    public var maxRejectedShare: Double = 0.5
    public var now: Date?
    /// Emissions uploads of at least this many bytes try the direct load first (`FactLoader`):
    /// it saves the upsert on big files but costs a few more round trips, which small uploads
    /// (a handful of readings each, many at once through the service) are better without.
    public var directLoadMinimumBytes: Int64 = IngestRequest.directLoadMinimumBytes
    public static let directLoadMinimumBytes: Int64 = 1 << 20

    public init(kind: FeedKind, uploader: String, fileName: String? = nil) {
        self.kind = kind
        self.uploader = uploader
        self.fileName = fileName
    }

    /// What is stored with the upload so that a queued job parses it the same way.
    var storedOptions: [String: String] {
        var options = ["time_zone": timeZone.identifier, "max_rejected_share": String(maxRejectedShare),
                       "encoding": encoding.rawValue]
        if let year { options["year"] = String(year) }
        if let delimiter { options["delimiter"] = String(UnicodeScalar(delimiter)) }
        return options
    }
}

/// Defaults shared by the CLI and the service.
public enum FeedDefaults {
    public static var timeZone: TimeZone { TimeZone(identifier: "Asia/Shanghai") ?? .gmt }
}

/// The answer for one ingested file (`envmon ingest --json`, `POST /v1/uploads`).
public struct IngestReport: Sendable, Codable, Equatable {
    public var id: Int64?
    public var file: String?
    public var kind: String
    public var sha256: String?
    public var status: String
    public var rowsTotal: Int
    public var rowsLoaded: Int
    public var rowsUnchanged: Int
    public var rowsRejected: Int
    public var rowsSkipped: Int
    public var rowsSuperseded: Int
    public var duplicateOf: Int64?
    public var error: String?
    /// Whether the rows went straight into the fact table (not part of the JSON answer).
    public var loadedDirectly = false

    private enum CodingKeys: String, CodingKey {
        case id, file, kind, sha256, status, rowsTotal, rowsLoaded, rowsUnchanged, rowsRejected, rowsSkipped,
             rowsSuperseded, duplicateOf, error
    }

    /// Every key is written, absent values as `null`, so that scripts can rely on the shape.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(file, forKey: .file)
        try c.encode(kind, forKey: .kind)
        try c.encode(sha256, forKey: .sha256)
        try c.encode(status, forKey: .status)
        try c.encode(rowsTotal, forKey: .rowsTotal)
        try c.encode(rowsLoaded, forKey: .rowsLoaded)
        try c.encode(rowsUnchanged, forKey: .rowsUnchanged)
        try c.encode(rowsRejected, forKey: .rowsRejected)
        try c.encode(rowsSkipped, forKey: .rowsSkipped)
        try c.encode(rowsSuperseded, forKey: .rowsSuperseded)
        try c.encode(duplicateOf, forKey: .duplicateOf)
        try c.encode(error, forKey: .error)
    }

    /// A file that could not be opened: nothing was stored.
    public static func unreadable(file: String, kind: FeedKind) -> IngestReport {
        IngestReport(id: nil, file: file, kind: kind, sha256: nil,
                     outcome: LoadOutcome(status: .failed, error: "cannot read \(file): no such file or no permission"))
    }

    init(id: Int64?, file: String?, kind: FeedKind, sha256: String?, outcome: LoadOutcome, duplicateOf: Int64? = nil) {
        self.id = id
        self.file = file
        self.kind = kind.rawValue
        self.sha256 = sha256
        self.status = duplicateOf == nil ? outcome.status.rawValue : "duplicate"
        self.rowsTotal = outcome.rowsTotal
        self.rowsLoaded = outcome.rowsLoaded
        self.rowsUnchanged = outcome.rowsUnchanged
        self.rowsRejected = outcome.rowsRejected
        self.rowsSkipped = outcome.rowsSkipped
        self.rowsSuperseded = outcome.rowsSuperseded
        self.duplicateOf = duplicateOf
        self.error = outcome.error
        self.loadedDirectly = outcome.loadedDirectly
    }
}

/// Ingests files: one streaming pass computes SHA-256 and checks the encoding, the bytes are
/// archived (or recognised as a duplicate before any parsing), then a second streaming pass
/// parses, validates and loads them in one transaction.
public struct IngestService: Sendable {
    /// Bytes read at a time. Each read becomes a batch of rows that lives in several forms at
    /// once (text, cells, records, COPY data); 256 KiB keeps that to a few MB (1 MiB reads
    /// took peak RSS from 85 MB to 160 MB at 1 M rows) at no measurable cost in speed.
    static let readSize = 1 << 18

    public let database: Database

    public init(database: Database) {
        self.database = database
    }

    /// Fingerprint and encoding of a file, from one pass over its bytes.
    struct Survey {
        var sha256: String
        var size: Int64
        var detected: FeedEncoding
        var isSpreadsheet: Bool
    }

    static func survey(_ file: URL) throws -> Survey {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        var hasher = SHA256()
        var sniffer = EncodingSniffer()
        var size: Int64 = 0
        while let data = try handle.read(upToCount: readSize), !data.isEmpty {
            hasher.update(data: data)
            data.withUnsafeBytes { sniffer.consume($0) }
            size += Int64(data.count)
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return Survey(sha256: digest, size: size, detected: sniffer.finish(), isSpreadsheet: sniffer.isSpreadsheet)
    }

    /// Archives and loads one file; `progress` hears (bytes parsed, file size) as it goes.
    public func ingest(
        file: URL, request: IngestRequest, progress: (@Sendable (Int64, Int64) -> Void)? = nil
    ) async throws -> IngestReport {
        let name = request.fileName ?? file.lastPathComponent
        let survey: Survey
        do {
            survey = try Self.survey(file)
        } catch {
            throw IngestFileError(file: name, reason: "cannot read: \(error.localizedDescription)")
        }
        let encoding = request.encoding == .auto ? survey.detected : request.encoding
        let archive = UploadArchive(database: database)
        let stored = try await archive.store(
            .init(kind: request.kind, fileName: name, uploader: request.uploader, source: request.source,
                  format: request.format, encoding: encoding.rawValue, sha256: survey.sha256, size: survey.size,
                  options: request.storedOptions),
            file: file)
        var logger = database.logger
        logger[metadataKey: "envmon.upload.id"] = "\(stored.id)"
        switch stored {
        case .duplicate(let id, let original):
            logger.info("duplicate upload", metadata: ["envmon.upload.duplicate_of": "\(original)"])
            return IngestReport(id: id, file: name, kind: request.kind, sha256: survey.sha256,
                                outcome: LoadOutcome(status: .duplicate), duplicateOf: original)
        case .original(let id):
            var reader: FileHandle?
            var done: Int64 = 0
            defer { try? reader?.close() }
            let outcome = try await load(uploadID: id, request: request, encoding: encoding,
                                         isSpreadsheet: survey.isSpreadsheet, fileName: name,
                                         direct: survey.size >= request.directLoadMinimumBytes) { fromStart in
                if fromStart {
                    try reader?.close()
                    reader = try FileHandle(forReadingFrom: file)
                    done = 0
                }
                guard let data = try reader?.read(upToCount: Self.readSize), !data.isEmpty else {
                    try reader?.close()
                    reader = nil
                    return nil
                }
                done += Int64(data.count)
                progress?(done, survey.size)
                return data
            }
            logger.info("upload processed", metadata: [
                "envmon.upload.status": "\(outcome.status.rawValue)", "envmon.upload.rows_loaded": "\(outcome.rowsLoaded)",
            ])
            return IngestReport(id: id, file: name, kind: request.kind, sha256: survey.sha256, outcome: outcome)
        }
    }

    /// Parses and loads an archived upload whose bytes `nextChunk` delivers in order (nil at
    /// the end), starting again from the first byte when called with `fromStart` true. It may
    /// be asked for the bytes twice: a direct emissions load that meets a stored key starts over
    /// through the staging table, possibly after reading only part of the upload.
    func load(
        uploadID: Int64, request: IngestRequest, encoding: FeedEncoding, isSpreadsheet: Bool, fileName: String,
        direct: Bool = true, nextChunk: (_ fromStart: Bool) async throws -> Data?
    ) async throws -> LoadOutcome {
        let loader = FactLoader(database: database)
        return try await loader.load(uploadID: uploadID, kind: request.kind, maxRejectedShare: request.maxRejectedShare,
                                     direct: direct) { sink in
            if isSpreadsheet {
                throw FeedError("\(fileName) is an Excel workbook (.xlsx/.xls), not CSV or JSON; in Excel choose File → Save As → \"CSV UTF-8 (Comma delimited)\" and upload the .csv")
            }
            var options = IngestOptions(kind: request.kind, timeZone: request.timeZone, year: request.year,
                                        now: request.now ?? Date(), delimiter: request.delimiter)
            options.delimiter = request.delimiter
            let format = request.format
            let settings = options
            // Reading and writing stay in this task (the sink and the file are not Sendable); a
            // child task parses. At most `ahead` reads are with the parser at a time, so memory
            // stays bounded by a few reads while parsing and the COPY run side by side.
            let (chunks, chunkInput) = AsyncStream.makeStream(of: Data.self)
            let (parsed, parsedInput) = AsyncStream.makeStream(of: Parsed.self)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var ingestor = FeedIngestor(options: settings, encoding: encoding, format: format)
                    do {
                        for await data in chunks {
                            let output = try data.withUnsafeBytes { try ingestor.consume($0) }
                            parsedInput.yield(.batch(LoadBatch(records: output.records, rejections: output.rejections)))
                        }
                        let output = try ingestor.finish()
                        parsedInput.yield(.last(LoadBatch(records: output.records, rejections: output.rejections),
                                                ingestor.counts, ingestor.detectedFormat))
                    } catch let error as FeedError {
                        parsedInput.yield(.failed(error))
                    } catch {
                        parsedInput.yield(.failed(FeedError("\(error)")))
                    }
                    parsedInput.finish()
                }
                defer { chunkInput.finish() }
                var results = parsed.makeAsyncIterator()
                var inFlight = 0
                var endOfInput = false
                var tally: IngestTally?
                var fromStart = true
                try await sink.write {
                    guard tally == nil else { return nil }
                    while inFlight < Self.ahead && !endOfInput {
                        let chunk = try await nextChunk(fromStart)
                        fromStart = false
                        if let data = chunk {
                            chunkInput.yield(data)
                            inFlight += 1
                        } else {
                            chunkInput.finish()
                            endOfInput = true
                        }
                    }
                    switch await results.next() {
                    case .batch(let batch):
                        inFlight -= 1
                        return batch
                    case .last(let batch, let counts, let detected):
                        tally = IngestTally(rowsTotal: counts.rowsTotal, rowsRejected: counts.rowsRejected,
                                            rowsSkipped: counts.rowsSkipped, format: detected)
                        return batch
                    case .failed(let error):
                        throw error
                    case nil:
                        throw CancellationError()
                    }
                }
                guard let tally else { throw CancellationError() }
                return tally
            }
        }
    }

    /// How many reads may be with the parser at once.
    static let ahead = 2

    /// What the parsing task hands back.
    enum Parsed: Sendable {
        case batch(LoadBatch)
        case last(LoadBatch, IngestCounts, FeedFormat?)
        case failed(FeedError)
    }
}

/// A file that could not even be read.
public struct IngestFileError: Error, Sendable, CustomStringConvertible {
    public let file: String
    public let reason: String
    public var description: String { "\(file): \(reason)" }
}
