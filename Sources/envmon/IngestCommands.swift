public import ArgumentParser
import EnvMonDomain
import EnvMonServer
import Foundation

extension FeedKind: ExpressibleByArgument {}
extension FeedFormat: ExpressibleByArgument {}
extension FeedEncoding: ExpressibleByArgument {}

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Archive and load feed files (CSV, JSON, NDJSON; UTF-8, GB18030, UTF-16).",
        discussion: """
            Each file is archived with a queued ingest job, then loaded by this command. If the
            command is interrupted, running it again on the same file (or any `envmon serve`)
            finishes the upload. Exit 0 when every file loaded or was a duplicate (rows may have
            been rejected), 1 when any failed. Rejected rows: `envmon uploads show ID --rejections`.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Feed kind: \(FeedKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: FeedKind
    @Option(name: .long, help: "auto, csv, json, ndjson or xlsx (an .xlsx workbook is recognised by its content).")
    var format: FeedFormat = .auto
    @Option(name: .long, help: "auto, utf-8, gb18030, utf-16le or utf-16be.")
    var encoding: FeedEncoding = .auto
    @Option(name: .long, help: "Who sent the files (default: $USER).")
    var uploader: String?
    @Option(name: .long, help: "Time zone of times without an offset (default: the feed time zone setting, Asia/Shanghai).")
    var timeZone: String?
    @Option(name: .long, help: "Year for times published without one (e.g. '04-01 12:00').")
    var year: Int?
    @Option(name: .long, help: "CSV delimiter: ',', ';' or 'tab' (default: detected).")
    var delimiter: String?
    @Option(name: .long, help: ArgumentHelp("Sheet of an .xlsx workbook, by name or 1-based number (default: the first whose header fits the kind).", valueName: "name|n"))
    var sheet: String?
    @Option(name: .long, help: "Fail an upload whose rejected share is above this fraction (default 0.5).")
    var maxRejectedShare: Double = 0.5
    @Flag(name: .long, help: "Evaluate the alert rules after loading (envmon serve always does).")
    var evaluate = false
    @Flag(name: .long, help: "No progress line on a terminal.")
    var quiet = false
    @OptionGroup var alertFiles: AlertFilesOption
    @Argument(help: "Files to ingest; - reads standard input (a pipe or FIFO is read to its end first).")
    var files: [String]

    func validate() throws {
        if let timeZone, TimeZone(identifier: timeZone) == nil {
            throw ValidationError("unknown time zone '\(timeZone)' (use an IANA name such as Asia/Shanghai)")
        }
        if let delimiter, Self.delimiterByte(delimiter) == nil {
            throw ValidationError("--delimiter must be ',', ';' or 'tab'")
        }
        if !(0...1).contains(maxRejectedShare) { throw ValidationError("--max-rejected-share must be between 0 and 1") }
        if files.isEmpty { throw ValidationError("name at least one file") }
        if let sheet, sheet.isEmpty || sheet.utf8.count > 255 || sheet.contains("\0") {
            throw ValidationError("--sheet must name a sheet (1 to 255 bytes) or give its number")
        }
    }

    static func delimiterByte(_ text: String) -> UInt8? {
        switch text {
        case ",": return UInt8(ascii: ",")
        case ";": return UInt8(ascii: ";")
        case "tab", "\t", "\\t": return UInt8(ascii: "\t")
        default: return nil
        }
    }

    func run() async throws {
        let operations = global.operations
        let alerts = evaluate ? try operations.alertConfiguration(directory: alertFiles.alertsDir) : nil
        let showProgress = !global.json && !quiet && isatty(STDERR_FILENO) == 1
        let reports = try await operations.ingest(
            files: files.map { URL(fileURLWithPath: $0 == "-" ? "/dev/stdin" : $0) }, request: makeRequest(),
            progress: showProgress ? Progress.draw : nil)
        if showProgress { Progress.clear() }
        var evaluation: AlertEvaluator.Summary?
        if let alerts { evaluation = try await operations.evaluate(at: Date(), configuration: alerts) }
        if global.json {
            struct Shown: Encodable { var uploads: [IngestReport]; var evaluation: AlertEvaluator.Summary? }
            try Output.json(Shown(uploads: reports, evaluation: evaluation))
        } else {
            for report in reports {
                // Failures are errors: stderr. Loaded and duplicate files are the answer: stdout.
                if report.status == .failed { Output.note(Self.summary(report)) } else { Output.line(Self.summary(report)) }
            }
            if let evaluation {
                Output.line("alerts: \(evaluation.firing) firing, \(evaluation.pending) pending, \(evaluation.changes.count) changes, \(evaluation.notificationsQueued) notifications queued")
            }
        }
        if reports.contains(where: { $0.status == .failed }) { throw ExitCode(1) }
    }

    func makeRequest() -> IngestRequest {
        var request = IngestRequest(kind: kind, uploader: uploader ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown")
        request.format = format
        request.encoding = encoding
        request.timeZone = timeZone.flatMap(TimeZone.init(identifier:))
        request.year = year
        request.delimiter = delimiter.flatMap(Self.delimiterByte)
        request.sheet = sheet
        request.maxRejectedShare = maxRejectedShare
        return request
    }

    static func summary(_ r: IngestReport) -> String {
        let name = (r.file ?? "?").printable
        let id = r.id.map(String.init) ?? "?"
        switch r.status {
        case .duplicate:
            return "\(name): duplicate of upload \(r.duplicateOf.map(String.init) ?? "?") (same bytes, nothing loaded); recorded as upload \(id)"
        case .failed:
            return "\(name): FAILED\(r.id.map { " (upload \($0))" } ?? ""): \((r.error ?? "unknown reason").printable)"
                + (r.rowsRejected > 0 ? "; see envmon uploads show \(id) --rejections" : "")
        default:
            var text = "\(name): upload \(id) loaded \(r.rowsLoaded) of \(r.rowsTotal) rows"
            var parts: [String] = []
            if r.rowsSuperseded > 0 { parts.append("\(r.rowsSuperseded) superseded earlier values") }
            if r.rowsUnchanged > 0 { parts.append("\(r.rowsUnchanged) unchanged") }
            if r.rowsRejected > 0 { parts.append("\(r.rowsRejected) rejected") }
            if r.rowsSkipped > 0 { parts.append("\(r.rowsSkipped) total rows skipped") }
            if !parts.isEmpty { text += " (" + parts.joined(separator: ", ") + ")" }
            if r.rowsRejected > 0 { text += "; see envmon uploads show \(id) --rejections" }
            return text
        }
    }
}

/// A progress line on a terminal for large files: bytes, lines (text files), rates.
enum Progress {
    nonisolated(unsafe) private static var started: [Int: Date] = [:]
    private static let lock = NSLock()

    static func draw(_ file: Int, _ progress: IngestProgress) {
        guard progress.total > 8 << 20 else { return }
        let elapsed = lock.withLock { () -> TimeInterval in
            let start = started[file] ?? Date()
            started[file] = start
            return Date().timeIntervalSince(start)
        }
        let percent = progress.total == 0 ? 100 : Int(progress.bytes * 100 / progress.total)
        var line = "ingesting: \(percent)% of \(progress.total >> 20) MiB"
        if let lines = progress.lines { line += ", \(lines.formatted(.number.grouping(.automatic))) lines" }
        if elapsed > 0.5 {
            line += String(format: ", %.1f MiB/s", Double(progress.bytes) / 1_048_576 / elapsed)
            if let lines = progress.lines { line += ", \(Int(Double(lines) / elapsed).formatted(.number.grouping(.automatic))) lines/s" }
        }
        Output.write(Data(("\r\u{1B}[K" + line).utf8), to: STDERR_FILENO)
    }

    static func clear() {
        Output.write(Data("\r\u{1B}[K".utf8), to: STDERR_FILENO)
    }
}

struct Uploads: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Read the upload archive: list, show, raw bytes, revert.",
        subcommands: [List.self, Show.self, Raw.self, Revert.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "The newest uploads first.")
        @OptionGroup var global: GlobalOptions
        @Option(name: .long, help: "How many (default 50).") var limit = 50
        @Option(name: .long, help: "Only this feed kind.") var kind: FeedKind?

        func run() async throws {
            let rows = try await global.operations.uploads(limit: limit, kind: kind)
            if global.json { try Output.json(["uploads": rows]); return }
            Output.line("id     kind       status     rows  loaded  rejected  received             uploader   file")
            for u in rows {
                Output.line([String(u.id).padding(6), u.kind.rawValue.padding(10), u.status.rawValue.padding(10),
                             String(u.rowsTotal ?? 0).padding(5), String(u.rowsLoaded ?? 0).padding(7),
                             String(u.rowsRejected ?? 0).padding(9), u.receivedAt.iso8601Text.padding(20),
                             u.uploader.printable.padding(10), (u.fileName ?? "").printable].joined(separator: " "))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One upload's record and, with --rejections, every rejected row.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Upload id.") var id: Int64
        @Flag(name: .long, help: "List the rejected rows (line, column, value, reason).") var rejections = false

        func run() async throws {
            let operations = global.operations
            let (upload, rejected) = try await operations.upload(id: id, withRejections: rejections)
            let job = upload.status.isFinal || upload.status == .duplicate ? nil : try await operations.job(uploadID: id)
            if global.json {
                struct Shown: Encodable { var upload: UploadRecord; var job: JobState?; var rejections: [RejectionRecord]? }
                try Output.json(Shown(upload: upload, job: job, rejections: rejections ? rejected : nil))
                return
            }
            Output.line("upload \(upload.id): \(upload.kind.rawValue) \(upload.status.rawValue)  file \((upload.fileName ?? "-").printable)  from \(upload.uploader.printable) (\(upload.source.rawValue)) at \(upload.receivedAt.iso8601Text)")
            Output.line("sha256 \(upload.sha256), \(upload.sizeBytes) bytes, format \(upload.format ?? "-"), encoding \(upload.encoding ?? "-")")
            if let original = upload.duplicateOf { Output.line("duplicate of upload \(original)") }
            if let job { Output.line(Self.describe(job)) }
            Output.line("rows: total \(upload.rowsTotal ?? 0), loaded \(upload.rowsLoaded ?? 0) (superseded \(upload.rowsSuperseded ?? 0)), unchanged \(upload.rowsUnchanged ?? 0), rejected \(upload.rowsRejected ?? 0), skipped \(upload.rowsSkipped ?? 0)")
            if let error = upload.error { Output.line("error: \(error.printable)") }
            for r in rejected {
                Output.line("  line \(r.line)\(r.column.map { ", column \($0.printable)" } ?? "")\(r.value.map { ", value '\($0.printable)'" } ?? ""): \(r.reason.printable)")
            }
        }

        /// Why an upload is not finished: who holds its job, or that it waits to be taken over.
        static func describe(_ job: JobState) -> String {
            var text = "job: \(job.status), attempt \(job.attempts) of \(job.maxAttempts)"
            if let worker = job.worker { text += ", \(job.status == "running" ? "held by" : "last held by") \(worker)" }
            if job.status == "running", job.leaseExpired {
                text += "; its holder stopped (lease expired): ingest the same file again, or run `envmon serve`, to finish it"
            } else if job.status == "queued" {
                text += "; waiting for a worker (`envmon serve`) or `envmon ingest` of the same file"
            }
            if let error = job.lastError { text += "; last error: \(error.printable)" }
            return text
        }
    }

    struct Raw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the exact bytes received for an upload to stdout.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Upload id.") var id: Int64

        func run() async throws {
            try await global.operations.raw(id: id) { Output.write($0, to: STDOUT_FILENO) }
        }
    }

    struct Revert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo a loaded upload: its rows are removed and the values it superseded come back.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Upload id.") var id: Int64

        func run() async throws {
            let result = try await global.operations.revert(id: id)
            if global.json { try Output.json(result) } else {
                Output.line("upload \(id) reverted: \(result.rowsRemoved) rows removed, \(result.rowsRestored) earlier values restored")
            }
        }
    }
}
