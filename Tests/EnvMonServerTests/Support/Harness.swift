import EnvMonDomain
import EnvMonNotify
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// Tiny feeds with canonical headers.
enum Feed {
    static let emissionsHeader = "enterprise_id,outlet_id,pollutant,measured_at,value,limit\n"

    /// `rows` readings of enterprise `enterprise`, one per hour of 2026-03-01; distinct per `seed`.
    static func emissions(enterprise: String = "E1", rows: Int = 2, seed: Int = 0) -> String {
        var text = emissionsHeader
        for hour in 0..<rows {
            text += "\(enterprise),DA001,SO2,2026-03-01 \(String(format: "%02d", hour % 24)):00,\(20 + seed),35\n"
        }
        return text
    }
}

/// Tokens of each scope on a test database.
struct Tokens: Sendable {
    var read: String
    var upload: String
    var admin: String

    static func make(_ db: Database) async throws -> Tokens {
        let store = TokenStore(database: db)
        return Tokens(read: try await store.create(name: "reader", scope: .read).secret,
                      upload: try await store.create(name: "alice", scope: .upload).secret,
                      admin: try await store.create(name: "root", scope: .admin).secret)
    }
}

extension ServerConfiguration {
    /// Fast polls and a short lease, port 0 for live tests; no alert loops (their own tests
    /// turn them on).
    static var test: ServerConfiguration {
        var config = ServerConfiguration()
        config.port = 0
        config.workers = 1
        config.pollInterval = .milliseconds(50)
        config.inboxInterval = .milliseconds(100)
        config.jobLease = .seconds(2)
        config.alertLoops = false
        // Load tests send hundreds of uploads with one token; the limit has its own test.
        config.uploadsPerMinute = 0
        return config
    }
}

extension AppConfiguration {
    /// The application's settings on a test database: built-in alert files, notifications
    /// into `log` (nothing by default).
    static func test(_ testDB: TestDatabase, server: ServerConfiguration = .test,
                     log: NotificationLog = NotificationLog { _ in }) throws -> AppConfiguration {
        AppConfiguration(
            runtime: RuntimeConfiguration(address: testDB.address, environment: [:]), server: server,
            alerts: try AlertConfiguration.load(directory: nil, environment: [:]),
            delivery: DeliveryContext(log: log, logger: Harness.logger))
    }
}

enum Harness {
    static let logger: Logger = {
        var logger = Logger(label: "envmon.tests.server")
        logger.logLevel = .warning
        return logger
    }()

    /// The application as `envmon serve` builds it (`buildApplication`), on `testDB`.
    static func application(_ testDB: TestDatabase, config: ServerConfiguration = .test) throws -> EnvMonApplication {
        try buildApplication(.test(testDB, server: config), logger: logger)
    }

    /// Runs `body` against the app on a fresh database, with `workers` ingest workers running;
    /// `body` gets a pool of its own on the same database for checks.
    static func withApp<T: Sendable>(
        _ setup: TestingSetup = .router, config: ServerConfiguration = .test, workers: Int = 1,
        _ body: @escaping @Sendable (any TestClientProtocol, Database, Tokens) async throws -> T
    ) async throws -> T {
        let testDB = try await TestDatabase.make()
        var config = config
        config.workers = workers
        let app = try application(testDB, config: config)
        return try await testDB.withDatabase { db in
            let tokens = try await Tokens.make(db)
            return try await bounded("the application") {
                try await app.test(setup) { client in try await body(client, db, tokens) }
            }
        }
    }

    /// Runs `body` — a test that runs the application, a server or workers and stops them — in
    /// a task that is left behind if it has not finished within `limit`, failing the test with
    /// what did not stop: a service that never stops must fail its test, not hang the whole run
    /// (Swift Testing's time limit cancels a test, then waits for it for good).
    /// `log`, when given, is the application's debug log: its last lines go with the failure.
    static func bounded<T: Sendable>(_ what: String, limit: Duration = .seconds(480), log: LogRing? = nil,
                                     _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await abandoning(after: limit, timeout: {
            HarnessFailure(message: "\(what) did not finish within \(limit) (a service that does not stop?); left behind"
                           + (log.map { "; its last log lines:\n" + $0.tail(120).joined(separator: "\n") } ?? ""))
        }, body)
    }

    /// The application as `buildApplication` makes it, logging at debug level into `log`.
    static func application(_ testDB: TestDatabase, config: ServerConfiguration = .test, log: LogRing) throws -> EnvMonApplication {
        try buildApplication(.test(testDB, server: config), logger: log.logger)
    }

    /// Polls `GET /v1/uploads/{id}` until the upload has an outcome.
    static func waitForOutcome(_ client: any TestClientProtocol, id: Int64, token: String,
                               timeout: Duration = .seconds(300)) async throws -> [String: Any] {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let response = try await client.execute(uri: "/v1/uploads/\(id)", method: .get, headers: bearer(token))
            let object = try json(response.body)
            if let status = object["status"] as? String, ["loaded", "failed"].contains(status) { return object }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessTimeout(what: "upload \(id) to be loaded")
    }

    static func bearer(_ token: String, _ more: HTTPFields = [:]) -> HTTPFields {
        var fields = more
        fields[.authorization] = "Bearer \(token)"
        return fields
    }

    static func csvHeaders(_ token: String) -> HTTPFields {
        bearer(token, [.contentType: "text/csv"])
    }

    static func json(_ buffer: ByteBuffer) throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView))
        guard let dictionary = object as? [String: Any] else { throw HarnessTimeout(what: "a JSON object") }
        return dictionary
    }

    /// A multipart/form-data body with one `file` part (and a distracting text field first).
    static func multipart(_ content: String, fileName: String, boundary: String = "envmon-test-boundary") -> (ByteBuffer, HTTPFields) {
        let body = """
            --\(boundary)\r
            Content-Disposition: form-data; name="comment"\r
            \r
            March readings\r
            --\(boundary)\r
            Content-Disposition: form-data; name="file"; filename="\(fileName)"\r
            Content-Type: text/csv\r
            \r
            \(content)\r
            --\(boundary)--\r

            """
        return (ByteBuffer(string: body), [.contentType: "multipart/form-data; boundary=\(boundary)"])
    }

    /// Posts a CSV feed and returns the 202 answer.
    static func post(_ client: any TestClientProtocol, csv: String, token: String, kind: String = "emissions") async throws -> [String: Any] {
        let response = try await client.execute(uri: "/v1/uploads?kind=\(kind)", method: .post, headers: csvHeaders(token),
                                                body: ByteBuffer(string: csv))
        guard response.status == .accepted else {
            throw HarnessTimeout(what: "202, got \(response.status.code): \(String(buffer: response.body))")
        }
        return try json(response.body)
    }
}

struct HarnessTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "gave up waiting for \(what)" }
}

/// The last lines a logger wrote, kept in memory: what an application was doing when a test
/// gave up on it.
final class LogRing: Sendable {
    private let lines = Mutex<[String]>([])
    private let capacity: Int

    init(capacity: Int = 2000) {
        self.capacity = capacity
    }

    /// A logger at debug level that writes here.
    var logger: Logger {
        var logger = Logger(label: "envmon.tests.ring") { label in Handler(ring: self, label: label) }
        logger.logLevel = .debug
        return logger
    }

    func append(_ line: String) {
        lines.withLock { lines in
            lines.append(line)
            if lines.count > capacity { lines.removeFirst(lines.count - capacity) }
        }
    }

    func tail(_ count: Int) -> [String] {
        lines.withLock { Array($0.suffix(count)) }
    }

    struct Handler: LogHandler {
        let ring: LogRing
        let label: String
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .debug

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = metadata.merging(event.metadata ?? [:]) { $1 }
            let fields = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            ring.append("\(Date()) \(event.level) [\(event.source)] \(event.message) \(fields)")
        }
    }
}
