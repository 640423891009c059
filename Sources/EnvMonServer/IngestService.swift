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
    public var source: UploadSource = .cli
    /// Where the upload came from, for the audit trail (the client's address over HTTP, the
    /// host for the CLI, the folder for the inbox); nil: the source and this host.
    public var origin: String?
    /// Set when a console user sent it (signed in, not with a token): the audit trail names them.
    public var signedInUser: String?
    /// The zone of times written without an offset; nil: the feed time zone setting.
    public var timeZone: TimeZone?
    public var year: Int?
    public var delimiter: UInt8?
    /// The sheet of an `.xlsx` upload, by name or 1-based number; nil: the first sheet whose
    /// header fits the kind.
    public var sheet: String?
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

    /// What is stored with the upload so that its job parses it the same way.
    var storedOptions: [String: String] {
        var options = ["max_rejected_share": String(maxRejectedShare), "encoding": encoding.rawValue]
        if let timeZone { options["time_zone"] = timeZone.identifier }
        if let year { options["year"] = String(year) }
        if let delimiter { options["delimiter"] = String(UnicodeScalar(delimiter)) }
        if let sheet { options["sheet"] = sheet }
        return options
    }
}

/// The answer for one ingested file (`envmon ingest --json`).
/// How far a load has read its file: bytes, of how many, and lines (text files; nil for a
/// workbook), for `envmon ingest`'s progress line.
public struct IngestProgress: Sendable {
    public var bytes: Int64
    public var total: Int64
    public var lines: Int64?
}

public struct IngestReport: Sendable, Codable, Equatable {
    public var id: Int64?
    public var file: String?
    public var kind: FeedKind
    public var sha256: String?
    public var status: UploadStatus
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

    /// A file that could not be read: nothing was stored.
    public static func unreadable(file: String, kind: FeedKind, reason: String) -> IngestReport {
        IngestReport(id: nil, file: file, kind: kind, sha256: nil,
                     outcome: LoadOutcome(status: .failed, error: "cannot read \(file): \(reason)"))
    }

    init(id: Int64?, file: String?, kind: FeedKind, sha256: String?, outcome: LoadOutcome, duplicateOf: Int64? = nil) {
        self.id = id
        self.file = file
        self.kind = kind
        self.sha256 = sha256
        self.status = duplicateOf == nil ? outcome.status : .duplicate
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

/// Ingests files for a command: the file goes through the one `Intake` (archived with a queued
/// job), then this process claims that job and loads it, reading the file it has at hand. An
/// interrupted command leaves a job whose lease expires; sending the same bytes again (or any
/// `envmon serve` worker) takes it over, so an upload can always be finished.
public struct IngestService: Sendable {
    public let database: Database
    /// The lease of a command's job (renewed every third of it while loading).
    public var lease: Duration = .seconds(60)

    public init(database: Database) {
        self.database = database
    }

    /// The worker name of this command in `envmon.ingest_job`.
    static var workerName: String {
        "cli:\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier)"
    }

    /// The most a pipe, FIFO or standard input may bring (it is spooled to disk first).
    static let maximumSpoolBytes: Int64 = 4 << 30

    /// A file is read twice (survey, then load): a FIFO, a pipe or `/dev/stdin` can be read only
    /// once, so its bytes are first copied as they arrive into a private (0600) temporary file,
    /// which is returned (the caller removes it). nil for a regular file, read where it is.
    static func spoolIfNotRegular(_ file: URL) throws -> URL? {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: file.path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw IngestFileError(file: file.lastPathComponent, reason: "it is a directory, not a file")
        }
        // One open only: opening a FIFO waits for its writer, and closing it early would cut the
        // writer off. A handle that can seek is a regular file, read again where it is.
        guard let input = try? FileHandle(forReadingFrom: file) else { return nil }  // the survey says why
        defer { try? input.close() }
        if (try? input.seekToEnd()) != nil { return nil }
        let spool = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-stdin-\(UUID().uuidString)")
        guard FileManager.default.createFile(atPath: spool.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
            throw IngestFileError(file: file.lastPathComponent, reason: "cannot create a temporary file in \(spool.deletingLastPathComponent().path)")
        }
        do {
            let output = try FileHandle(forWritingTo: spool)
            defer { try? output.close() }
            var total: Int64 = 0
            while let data = try input.read(upToCount: 1 << 20), !data.isEmpty {
                total += Int64(data.count)
                guard total <= maximumSpoolBytes else {
                    throw IngestFileError(file: file.lastPathComponent,
                                          reason: "more than \(maximumSpoolBytes >> 30) GiB from a pipe; save it to a file first")
                }
                do {
                    try output.write(contentsOf: data)
                } catch {
                    throw IngestFileError(
                        file: file.lastPathComponent,
                        reason: "cannot keep a temporary copy in \(spool.deletingLastPathComponent().path) (\(FileErrors.describe(error))); nothing was stored")
                }
            }
            return spool
        } catch {
            try? FileManager.default.removeItem(at: spool)
            throw error
        }
    }

    /// True when `worker` names an `envmon` command on this host whose process no longer runs.
    static func isDeadLocalCommand(_ worker: String) -> Bool {
        let prefix = "cli:\(ProcessInfo.processInfo.hostName):"
        guard worker.hasPrefix(prefix), let pid = pid_t(worker.dropFirst(prefix.count)),
              pid > 0, pid != ProcessInfo.processInfo.processIdentifier else { return false }
        return kill(pid, 0) == -1 && errno == ESRCH
    }

    /// Archives and loads one file; `progress` hears the bytes parsed, the file size and (text
    /// files) the lines read as it goes.
    public func ingest(
        file: URL, request: IngestRequest, progress: (@Sendable (IngestProgress) -> Void)? = nil
    ) async throws -> IngestReport {
        var request = request
        let name = request.fileName ?? file.lastPathComponent
        request.fileName = name
        let surveyed: SurveyedFile
        let spooled: URL?
        do {
            spooled = try Self.spoolIfNotRegular(file)
            surveyed = try SurveyedFile.survey(spooled ?? file)
        } catch let error as IngestFileError {
            throw error
        } catch {
            throw IngestFileError(file: name, reason: "cannot read: \(FileErrors.describe(error))")
        }
        defer { if let spooled { try? FileManager.default.removeItem(at: spooled) } }
        let accepted = try await Intake(database: database).accept(surveyed, request: request)
        let uploadID: Int64
        switch accepted {
        case .queued(let id):
            uploadID = id
        case .duplicate(let id, let original):
            // The same bytes again. Usually the original has its outcome; if it was interrupted
            // (its job still waiting), this command finishes it.
            guard let finished = try await finishInterrupted(original, surveyed, request, progress: progress) else {
                return IngestReport(id: id, file: name, kind: request.kind, sha256: surveyed.sha256,
                                    outcome: LoadOutcome(status: .duplicate), duplicateOf: original)
            }
            return finished
        }
        let outcome = try await loadOwnJob(uploadID, surveyed, request, progress: progress)
        return IngestReport(id: uploadID, file: name, kind: request.kind, sha256: surveyed.sha256, outcome: outcome)
    }

    /// Loads the upload an earlier, interrupted command archived (same bytes): nil when it has
    /// its outcome already (a true duplicate).
    private func finishInterrupted(
        _ original: Int64, _ file: SurveyedFile, _ request: IngestRequest, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws -> IngestReport? {
        let queue = JobQueue(database: database, lease: lease)
        while let upload = try await UploadQueries(database: database).upload(id: original), !upload.status.isFinal,
              upload.status != .duplicate, let job = try await queue.job(uploadID: original), job.status != "done",
              job.status != "failed" {
            if !job.isClaimable, let holder = job.worker, Self.isDeadLocalCommand(holder) {
                // A command on this machine that has exited (killed, crashed): no need to wait
                // for its lease to run out.
                try await queue.expireLease(uploadID: original, heldBy: holder)
                continue
            }
            if job.isClaimable {
                database.logger.notice("finishing an interrupted upload of the same bytes",
                                       metadata: ["envmon.upload.id": "\(original)"])
                let outcome = try await loadOwnJob(original, file, request, progress: progress)
                return IngestReport(id: original, file: upload.fileName, kind: upload.kind, sha256: file.sha256,
                                    outcome: outcome)
            }
            // Someone holds it (a worker of `serve`, another command): wait for its outcome.
            try await Task.sleep(for: .milliseconds(500))
        }
        return nil
    }

    /// Claims the job of `uploadID` and loads it from `file`, retrying transient failures as a
    /// worker would.
    private func loadOwnJob(
        _ uploadID: Int64, _ file: SurveyedFile, _ request: IngestRequest, progress: (@Sendable (IngestProgress) -> Void)?
    ) async throws -> LoadOutcome {
        let queue = JobQueue(database: database, lease: lease)
        let runner = JobRunner(queue: queue, logger: database.logger)
        var attempt = 0
        while true {
            attempt += 1
            guard let job = try await queue.claim(uploadID: uploadID, worker: Self.workerName) else {
                // Taken by a worker meanwhile: its outcome is the answer.
                return try await waitForOutcome(uploadID)
            }
            let service = self
            switch await runner.run(job, retryDelay: .zero, load: {
                try await service.load(uploadID: uploadID, from: file, request: request, progress: progress)
            }) {
            case .finished(let outcome): return outcome
            case .willRetry: try await Task.sleep(for: .milliseconds(200 * attempt))
            case .gaveUp(let reason): return LoadOutcome(status: .failed, error: reason)
            case .released: throw CancellationError()
            }
        }
    }

    private func waitForOutcome(_ uploadID: Int64) async throws -> LoadOutcome {
        while true {
            guard let upload = try await UploadQueries(database: database).upload(id: uploadID) else {
                throw EnvMonError.notFound("no upload with id \(uploadID)")
            }
            if upload.status.isFinal {
                var outcome = LoadOutcome(status: upload.status, rowsTotal: upload.rowsTotal ?? 0,
                                          rowsRejected: upload.rowsRejected ?? 0, rowsSkipped: upload.rowsSkipped ?? 0,
                                          error: upload.error)
                outcome.rowsLoaded = upload.rowsLoaded ?? 0
                outcome.rowsUnchanged = upload.rowsUnchanged ?? 0
                outcome.rowsSuperseded = upload.rowsSuperseded ?? 0
                return outcome
            }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    /// Parses and loads an archived upload from the file it was archived from.
    func load(uploadID: Int64, from file: SurveyedFile, request: IngestRequest,
              progress: (@Sendable (IngestProgress) -> Void)?) async throws -> LoadOutcome {
        let encoding = request.encoding == .auto ? file.detectedEncoding : request.encoding
        var reader: FileHandle?
        var done: Int64 = 0
        var lines: Int64 = 0
        // Lines are counted in text files (a workbook is a zip: its bytes say nothing of rows).
        var text: Bool?
        defer { try? reader?.close() }
        return try await load(uploadID: uploadID, request: request, encoding: encoding,
                              fileName: request.fileName ?? file.url.lastPathComponent,
                              direct: file.size >= request.directLoadMinimumBytes) { fromStart in
            if fromStart {
                try reader?.close()
                reader = try FileHandle(forReadingFrom: file.url)
                done = 0
                lines = 0
            }
            guard let data = try reader?.read(upToCount: SurveyedFile.readSize), !data.isEmpty else {
                try reader?.close()
                reader = nil
                return nil
            }
            done += Int64(data.count)
            if let progress {
                if text == nil { text = !data.starts(with: [0x50, 0x4B]) }
                if text == true { lines += Int64(data.withUnsafeBytes { $0.reduce(0) { $1 == 0x0A ? $0 + 1 : $0 } }) }
                progress(IngestProgress(bytes: done, total: file.size, lines: text == true ? lines : nil))
            }
            return data
        }
    }

    /// Parses and loads an archived upload whose bytes `nextChunk` delivers in order (nil at
    /// the end), starting again from the first byte when called with `fromStart` true. It may
    /// be asked for the bytes twice: a direct emissions load that meets a stored key starts over
    /// through the staging table, possibly after reading only part of the upload.
    func load(
        uploadID: Int64, request: IngestRequest, encoding: FeedEncoding, fileName: String,
        direct: Bool = true, nextChunk: (_ fromStart: Bool) async throws -> Data?
    ) async throws -> LoadOutcome {
        let zone: TimeZone
        if let given = request.timeZone { zone = given } else { zone = try await FeedZone.read(database) }
        let loader = FactLoader(database: database)
        return try await loader.load(uploadID: uploadID, kind: request.kind, maxRejectedShare: request.maxRejectedShare,
                                     direct: direct) { sink in
            let options = IngestOptions(kind: request.kind, timeZone: zone, year: request.year,
                                        now: request.now ?? Date(), delimiter: request.delimiter, sheet: request.sheet)
            let format = request.format
            // Reading and writing stay in this task (the sink and the file are not Sendable); a
            // child task parses. At most `ahead` reads are with the parser at a time, so memory
            // stays bounded by a few reads while parsing and the COPY run side by side.
            let (chunks, chunkInput) = AsyncStream.makeStream(of: Data.self)
            let (parsed, parsedInput) = AsyncStream.makeStream(of: Parsed.self)
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var ingestor = FeedIngestor(options: options, encoding: encoding, format: format,
                                                encodingGuessed: request.encoding == .auto)
                    do {
                        for await data in chunks {
                            let output = try data.withUnsafeBytes { try ingestor.consume($0) }
                            parsedInput.yield(.batch(LoadBatch(records: output.records, rejections: output.rejections)))
                        }
                        let output = try ingestor.finish { batch in
                            parsedInput.yield(.batch(LoadBatch(records: batch.records, rejections: batch.rejections)))
                        }
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
                        inFlight = max(0, inFlight - 1)  // a workbook hands over batches after the last read
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

/// File errors in words, not Foundation's error domains.
enum FileErrors {
    static func describe(_ error: any Error) -> String {
        let error = error as NSError
        if error.domain == NSCocoaErrorDomain {
            switch error.code {
            case NSFileReadNoSuchFileError, NSFileNoSuchFileError: return "no such file"
            case NSFileReadNoPermissionError: return "permission denied"
            default: break
            }
        }
        if let posix = error.userInfo[NSUnderlyingErrorKey] as? NSError, posix.domain == NSPOSIXErrorDomain {
            return String(cString: strerror(Int32(posix.code))).lowercased()
        }
        if error.domain == NSPOSIXErrorDomain { return String(cString: strerror(Int32(error.code))).lowercased() }
        return error.localizedDescription
    }
}
