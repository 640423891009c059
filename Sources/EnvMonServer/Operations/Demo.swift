public import EnvMonDomain
public import EnvMonStore
public import Foundation

/// The main job end to end on whatever database is configured (the embedded cluster by
/// default): ingest every sample feed, evaluate the alert rules, deliver the notifications,
/// and show plan progress and the alerts.
public struct Demo: Sendable {
    public let database: Database
    public let configuration: AlertConfiguration

    public init(database: Database, configuration: AlertConfiguration) {
        self.database = database
        self.configuration = configuration
    }

    /// The feed files of a folder, each with the kind its name starts with
    /// (`emissions…`, `sewage…`, `water…`, `green…`, `waste…`, `permits…`), in name order.
    public static func feedFiles(in folder: URL) throws -> [(URL, FeedKind)] {
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        return names.compactMap { name in
            guard ["csv", "json", "ndjson", "txt", "tsv"].contains((name as NSString).pathExtension.lowercased()),
                  let kind = FeedKind.allCases.first(where: { name.lowercased().hasPrefix($0.rawValue) })
            else { return nil }
            return (folder.appendingPathComponent(name), kind)
        }
    }

    /// The sample feeds: `./examples/feeds`, else next to an installed binary.
    public static func defaultFeedFolder() -> URL? {
        let candidates = [
            URL(fileURLWithPath: "examples/feeds"),
            URL(fileURLWithPath: "/usr/share/envmon/examples/feeds"),
        ]
        return candidates.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    public struct Result: Sendable, Codable {
        public var uploads: [IngestReport]
        public var evaluation: AlertEvaluator.Summary
        public var plan: [PlanProgressRow]
        public var alerts: [AlertState]
    }

    public func run(feeds: URL, uploader: String, year: Int?, at now: Date,
                    onUpload: @Sendable (IngestReport) -> Void = { _ in }) async throws -> Result {
        let service = IngestService(database: database)
        var uploads: [IngestReport] = []
        for (file, kind) in try Self.feedFiles(in: feeds) {
            var request = IngestRequest(kind: kind, uploader: uploader, fileName: file.lastPathComponent)
            // Samples in the national stations' format carry times without a year.
            request.year = year ?? Calendar(identifier: .gregorian).component(.year, from: now)
            let report = try await service.ingest(file: file, request: request)
            onUpload(report)
            uploads.append(report)
        }
        let evaluation = try await AlertEvaluator(database: database, configuration: configuration).evaluate(at: now)
        let plan = try await PlanStore(database: database).progress()
        let alerts = try await AlertStore(database: database).list(state: .firing)
        return Result(uploads: uploads, evaluation: evaluation, plan: plan, alerts: alerts)
    }
}
