public import ArgumentParser
import EnvMonDomain
import EnvMonServer
import EnvMonStore
import Foundation

extension FeedKind: ExpressibleByArgument {}
extension FeedFormat: ExpressibleByArgument {}
extension FeedEncoding: ExpressibleByArgument {}

struct Ingest: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Archive and load feed files (CSV, JSON, NDJSON; UTF-8, GB18030, UTF-16).",
        discussion: """
            Exit 0 when every file loaded or was a duplicate (rows may have been rejected), 1 when
            any failed. Rejected rows: `envmon uploads show ID --rejections`.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(name: .long, help: "Feed kind: \(FeedKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: FeedKind
    @Option(name: .long, help: "auto, csv, json or ndjson.")
    var format: FeedFormat = .auto
    @Option(name: .long, help: "auto, utf-8, gb18030, utf-16le or utf-16be.")
    var encoding: FeedEncoding = .auto
    @Option(name: .long, help: "Who sent the files (default: $USER).")
    var uploader: String?
    @Option(name: .long, help: "Time zone of times without an offset (default Asia/Shanghai).")
    var timeZone: String?
    @Option(name: .long, help: "Year for times published without one (e.g. '04-01 12:00').")
    var year: Int?
    @Option(name: .long, help: "CSV delimiter: ',', ';' or 'tab' (default: detected).")
    var delimiter: String?
    @Option(name: .long, help: "Fail an upload whose rejected share is above this fraction (default 0.5).")
    var maxRejectedShare: Double = 0.5
    @Flag(name: .long, help: "Evaluate the alert rules after loading (envmon serve always does).")
    var evaluate = false
    @OptionGroup var alertFiles: AlertFilesOption
    @Argument(help: "Files to ingest.")
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
        let global = self.global
        let base = makeRequest()
        let files = self.files
        let alertConfiguration = evaluate ? try Evaluate.loadConfiguration(global, alertFiles) : nil
        let (reports, evaluation) = try await global.runtime.withDatabase(logger: global.logger) { db in
            let service = IngestService(database: db)
            var reports: [IngestReport] = []
            for path in files {
                let url = URL(fileURLWithPath: path)
                guard FileManager.default.isReadableFile(atPath: url.path) else {
                    reports.append(IngestReport.unreadable(file: path, kind: base.kind))
                    continue
                }
                var request = base
                request.fileName = url.lastPathComponent
                let showProgress = !global.json && isatty(2) == 1
                reports.append(try await service.ingest(file: url, request: request, progress: showProgress ? Progress.draw : nil))
                if showProgress { Progress.clear() }
            }
            guard let alertConfiguration else { return (reports, nil as AlertEvaluator.Summary?) }
            let evaluation = try await AlertEvaluator(database: db, configuration: alertConfiguration).evaluate(at: Date())
            return (reports, evaluation)
        }
        if global.json {
            struct Shown: Encodable { var uploads: [IngestReport]; var evaluation: AlertEvaluator.Summary? }
            try Output.json(Shown(uploads: reports, evaluation: evaluation))
        } else {
            for report in reports { Output.line(Self.summary(report)) }
            if let evaluation {
                Output.line("alerts: \(evaluation.firing) firing, \(evaluation.pending) pending, \(evaluation.changes.count) changes, \(evaluation.notificationsQueued) notifications queued")
            }
        }
        if reports.contains(where: { $0.status == "failed" }) { throw ExitCode(1) }
    }

    func makeRequest() -> IngestRequest {
        var request = IngestRequest(kind: kind, uploader: uploader ?? ProcessInfo.processInfo.environment["USER"] ?? "unknown")
        request.format = format
        request.encoding = encoding
        if let timeZone, let zone = TimeZone(identifier: timeZone) { request.timeZone = zone }
        request.year = year
        request.delimiter = delimiter.flatMap(Self.delimiterByte)
        request.maxRejectedShare = maxRejectedShare
        return request
    }

    static func summary(_ r: IngestReport) -> String {
        let name = r.file ?? "?"
        switch r.status {
        case "duplicate":
            return "\(name): duplicate of upload \(r.duplicateOf.map(String.init) ?? "?") (same bytes, nothing loaded); recorded as upload \(r.id.map(String.init) ?? "?")"
        case "failed":
            return "\(name): FAILED\(r.id.map { " (upload \($0))" } ?? ""): \(r.error ?? "unknown reason")"
                + (r.rowsRejected > 0 ? "; see envmon uploads show \(r.id.map(String.init) ?? "") --rejections" : "")
        default:
            var text = "\(name): upload \(r.id.map(String.init) ?? "?") loaded \(r.rowsLoaded) of \(r.rowsTotal) rows"
            var parts: [String] = []
            if r.rowsSuperseded > 0 { parts.append("\(r.rowsSuperseded) superseded earlier values") }
            if r.rowsUnchanged > 0 { parts.append("\(r.rowsUnchanged) unchanged") }
            if r.rowsRejected > 0 { parts.append("\(r.rowsRejected) rejected") }
            if r.rowsSkipped > 0 { parts.append("\(r.rowsSkipped) total rows skipped") }
            if !parts.isEmpty { text += " (" + parts.joined(separator: ", ") + ")" }
            if r.rowsRejected > 0 { text += "; see envmon uploads show \(r.id.map(String.init) ?? "") --rejections" }
            return text
        }
    }
}

/// A progress line on a terminal for large files.
enum Progress {
    static func draw(_ done: Int64, _ total: Int64) {
        guard total > 8 << 20 else { return }
        let percent = total == 0 ? 100 : Int(done * 100 / total)
        FileHandle.standardError.write(Data("\r\u{1B}[Kingesting: \(percent)% of \(total >> 20) MiB".utf8))
    }

    static func clear() {
        FileHandle.standardError.write(Data("\r\u{1B}[K".utf8))
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
            let global = self.global
            let (limit, kind) = (self.limit, self.kind)
            let rows = try await global.runtime.withDatabase(logger: global.logger) { db in
                try await UploadQueries(database: db).list(limit: limit, kind: kind?.rawValue)
            }
            if global.json { try Output.json(["uploads": rows]); return }
            Output.line("id     kind       status     rows  loaded  rejected  received             uploader   file")
            for u in rows {
                Output.line([String(u.id).padding(6), u.kind.padding(10), u.status.padding(10),
                             String(u.rowsTotal ?? 0).padding(5), String(u.rowsLoaded ?? 0).padding(7),
                             String(u.rowsRejected ?? 0).padding(9), u.receivedAt.iso8601Text.padding(20),
                             u.uploader.padding(10), u.fileName ?? ""].joined(separator: " "))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "One upload's record and, with --rejections, every rejected row.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Upload id.") var id: Int64
        @Flag(name: .long, help: "List the rejected rows (line, column, value, reason).") var rejections = false

        func run() async throws {
            let global = self.global
            let (id, withRejections) = (self.id, self.rejections)
            let (upload, rejected) = try await global.runtime.withDatabase(logger: global.logger) { db in
                let queries = UploadQueries(database: db)
                guard let upload = try await queries.upload(id: id) else { throw UploadNotFound(id: id) }
                return (upload, withRejections ? try await queries.rejections(uploadID: id) : [])
            }
            if global.json {
                struct Shown: Encodable { var upload: UploadRecord; var rejections: [RejectionRecord]? }
                try Output.json(Shown(upload: upload, rejections: withRejections ? rejected : nil))
                return
            }
            Output.line("upload \(upload.id): \(upload.kind) \(upload.status)  file \(upload.fileName ?? "-")  from \(upload.uploader) (\(upload.source)) at \(upload.receivedAt.iso8601Text)")
            Output.line("sha256 \(upload.sha256), \(upload.sizeBytes) bytes, format \(upload.format ?? "-"), encoding \(upload.encoding ?? "-")")
            if let original = upload.duplicateOf { Output.line("duplicate of upload \(original)") }
            Output.line("rows: total \(upload.rowsTotal ?? 0), loaded \(upload.rowsLoaded ?? 0) (superseded \(upload.rowsSuperseded ?? 0)), unchanged \(upload.rowsUnchanged ?? 0), rejected \(upload.rowsRejected ?? 0), skipped \(upload.rowsSkipped ?? 0)")
            if let error = upload.error { Output.line("error: \(error)") }
            for r in rejected {
                Output.line("  line \(r.line)\(r.column.map { ", column \($0)" } ?? "")\(r.value.map { ", value '\($0)'" } ?? ""): \(r.reason)")
            }
        }
    }

    struct Raw: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the exact bytes received for an upload to stdout.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Upload id.") var id: Int64

        func run() async throws {
            let global = self.global
            let id = self.id
            try await global.runtime.withDatabase(logger: global.logger) { db in
                try await UploadArchive(database: db).raw(id: id) { FileHandle.standardOutput.write($0) }
            }
        }
    }

    struct Revert: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Undo a loaded upload: its rows are removed and the values it superseded come back.")
        @OptionGroup var global: GlobalOptions
        @Argument(help: "Upload id.") var id: Int64

        func run() async throws {
            let global = self.global
            let id = self.id
            let result = try await global.runtime.withDatabase(logger: global.logger) { db in
                try await UploadRevert(database: db).revert(uploadID: id)
            }
            if global.json { try Output.json(result) } else {
                Output.line("upload \(id) reverted: \(result.rowsRemoved) rows removed, \(result.rowsRestored) earlier values restored")
            }
        }
    }
}

extension String {
    func padding(_ width: Int) -> String {
        count >= width ? self : self + String(repeating: " ", count: width - count)
    }
}
