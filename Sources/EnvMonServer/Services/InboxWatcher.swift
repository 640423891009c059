import EnvMonDomain
import EnvMonIngest
import EnvMonStore
public import Foundation
import Logging
public import ServiceLifecycle

/// Ingests files dropped into `DIR/<kind>/`.
///
/// A file is taken when its size is the same on two scans in a row; names starting with `.` or
/// ending `.part` or `.tmp` are never taken, so a writer may copy to `name.part` and rename
/// when done. A taken file is archived with a queued job (uploader `inbox`), the workers load
/// it, and it is moved to `DIR/<kind>/done/` — or to `DIR/<kind>/failed/` with
/// `<name>.error.txt` saying why. After a restart a file still in the inbox is recognised as a
/// duplicate of its archived upload and waits for that upload's outcome.
public struct InboxWatcher: Service {
    public let directory: URL
    public let interval: Duration
    let database: Database
    let metrics: ServiceMetrics
    let logger: Logger
    let gate: StartupGate?

    init(directory: URL, interval: Duration = .seconds(1), database: Database, metrics: ServiceMetrics, logger: Logger,
         gate: StartupGate? = nil) {
        self.directory = directory
        self.interval = interval
        self.database = database
        self.metrics = metrics
        self.logger = logger
        self.gate = gate
    }

    /// Whether a file name is one the inbox takes.
    public static func isCandidate(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(".part") && !name.hasSuffix(".tmp") && !name.hasSuffix(".error.txt")
    }

    public func run() async throws {
        if let gate { try await cancelWhenGracefulShutdown { try await gate.wait() } }
        let fm = FileManager.default
        for kind in FeedKind.allCases {
            for sub in ["", "done", "failed"] {
                try? fm.createDirectory(at: folder(kind).appendingPathComponent(sub), withIntermediateDirectories: true)
            }
        }
        var state = ScanState()
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            await scan(&state)
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }

    func folder(_ kind: FeedKind) -> URL { directory.appendingPathComponent(kind.rawValue, isDirectory: true) }

    /// Sizes seen on the previous scan, and files archived whose outcome is awaited.
    struct ScanState {
        var sizes: [String: Int64] = [:]
        var awaiting: [String: (kind: FeedKind, uploadID: Int64)] = [:]
        /// Files whose move out of the inbox failed, by the size they had: not archived again
        /// (a new duplicate upload every scan) until they change.
        var stuck: [String: Int64] = [:]
    }

    func scan(_ state: inout ScanState) async {
        var seen: [String: Int64] = [:]
        for kind in FeedKind.allCases {
            let names = (try? FileManager.default.contentsOfDirectory(atPath: folder(kind).path)) ?? []
            for name in names.sorted() where Self.isCandidate(name) {
                let url = folder(kind).appendingPathComponent(name)
                guard let attributes = try? FileManager.default.attributesOfItem(atPath: url.path),
                      attributes[.type] as? FileAttributeType == .typeRegular,
                      let size = (attributes[.size] as? NSNumber)?.int64Value else { continue }
                let key = url.path
                seen[key] = size
                guard state.awaiting[key] == nil, state.sizes[key] == size, state.stuck[key] != size else { continue }
                if let uploadID = await archive(url, name: name, kind: kind) {
                    state.awaiting[key] = (kind, uploadID)
                }
            }
        }
        state.sizes = seen
        state.stuck = state.stuck.filter { seen[$0.key] != nil }
        for (path, entry) in state.awaiting {
            guard let outcome = await finalOutcome(entry.uploadID) else { continue }
            state.awaiting[path] = nil
            if !move(URL(fileURLWithPath: path), kind: entry.kind, uploadID: entry.uploadID, outcome: outcome) {
                state.stuck[path] = state.sizes[path]
            }
        }
    }

    /// Archives a stable file with a queued job; returns the upload whose outcome decides where
    /// the file goes (a duplicate's original).
    private func archive(_ url: URL, name: String, kind: FeedKind) async -> Int64? {
        var logger = self.logger
        logger[metadataKey: "envmon.inbox.file"] = "\(url.path)"
        do {
            let survey = try SurveyedFile.survey(url)
            var request = IngestRequest(kind: kind, uploader: "inbox", fileName: name)
            request.source = .inbox
            request.origin = "inbox \(url.deletingLastPathComponent().path)"
            let stored = try await Intake(database: database).accept(survey, request: request)
            logger[metadataKey: "envmon.upload.id"] = "\(stored.uploadID)"
            switch stored {
            case .queued(let id):
                metrics.upload(status: "queued", source: "inbox")
                logger.info("inbox file queued")
                return id
            case .duplicate(_, let original):
                metrics.upload(status: "duplicate", source: "inbox")
                logger.info("inbox file is a duplicate", metadata: ["envmon.upload.duplicate_of": "\(original)"])
                return original
            }
        } catch {
            // The database may be away: the file stays and is tried on a later scan.
            logger.info("inbox file not archived", metadata: ["envmon.error": "\(Database.describe(error))"])
            return nil
        }
    }

    /// The upload's outcome once it has one: nil while queued or loading.
    private func finalOutcome(_ uploadID: Int64) async -> UploadRecord? {
        guard let upload = try? await UploadQueries(database: database).upload(id: uploadID) else { return nil }
        return upload.status.isFinal ? upload : nil
    }

    /// Moves a file with an outcome to done/ or failed/; false when it could not be moved.
    private func move(_ file: URL, kind: FeedKind, uploadID: Int64, outcome: UploadRecord) -> Bool {
        let failed = outcome.status == .failed
        let target = folder(kind).appendingPathComponent(failed ? "failed" : "done", isDirectory: true)
        let destination = Self.freeName(for: file.lastPathComponent, in: target,
                                        reserve: failed ? ".error.txt".utf8.count : 0)
        var logger = self.logger
        logger[metadataKey: "envmon.upload.id"] = "\(uploadID)"
        do {
            try FileManager.default.moveItem(at: file, to: destination)
            if failed {
                let text = "upload \(uploadID) of \(file.lastPathComponent) failed: \(outcome.error ?? "unknown reason")\n"
                    + "details: envmon uploads show \(uploadID) --rejections\n"
                try Data(text.utf8).write(to: destination.appendingPathExtension("error.txt"))
            }
            logger.info("inbox file moved", metadata: ["envmon.inbox.to": "\(destination.path)"])
            return true
        } catch {
            logger.warning("cannot move inbox file; it stays until it changes or envmon restarts",
                           metadata: ["envmon.error": "\(error.localizedDescription)"])
            return false
        }
    }

    /// The longest file name (in bytes) the file systems we run on accept.
    static let maximumNameBytes = 255

    /// `name`, or `stem-1.ext`, `stem-2.ext`… when a file of that name is already there; the
    /// stem is shortened (on a character boundary) so that the name, plus `reserve` bytes for a
    /// suffix such as `.error.txt`, stays within 255 bytes.
    static func freeName(for name: String, in folder: URL, reserve: Int = 0) -> URL {
        let stem = (name as NSString).deletingPathExtension
        let ext = (name as NSString).pathExtension
        func fitted(_ counter: Int?) -> String {
            let tail = (counter.map { "-\($0)" } ?? "") + (ext.isEmpty ? "" : ".\(ext)")
            var short = Substring(stem)
            while short.utf8.count + tail.utf8.count + reserve > maximumNameBytes, !short.isEmpty { short.removeLast() }
            return String(short) + tail
        }
        var candidate = folder.appendingPathComponent(fitted(nil))
        var counter = 1
        while FileManager.default.fileExists(atPath: candidate.path) {
            candidate = folder.appendingPathComponent(fitted(counter))
            counter += 1
        }
        return candidate
    }
}
