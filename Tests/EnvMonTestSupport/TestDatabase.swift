import EmbeddedPostgres
import EnvMonAlerting
import Testing
public import EnvMonDomain
public import EnvMonServer
public import EnvMonStore
public import Foundation
public import Logging
public import PostgresNIO

/// A fresh, migrated database in this test process's embedded cluster.
///
/// The cluster lives in `/tmp/envmon-tests-<uid>` and is started once (under a file lock) for the
/// whole test process; migrations run once into a template database named after their checksum,
/// and every `make()` copies it (`CREATE DATABASE … TEMPLATE`), so suites run in parallel.
public struct TestDatabase: Sendable {
    public let address: ServerAddress
    public let name: String

    /// A handle on an existing database (e.g. a second one made by a test).
    public init(address: ServerAddress, name: String) {
        self.address = address
        self.name = name
    }

    public static let logger: Logger = {
        var logger = Logger(label: "envmon.tests")
        logger.logLevel = .warning
        return logger
    }()

    public static func make() async throws -> TestDatabase {
        let cluster = try await TestCluster.shared.address()
        let template = try await TestCluster.shared.template()
        let name = TestCluster.databaseName(prefix: "t")
        try await TestCluster.whileInUse {
            try await TestCluster.withConnection(cluster) { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name) TEMPLATE \(template)"), logger: logger)
            }
        }
        await DatabaseRegistry.current?.register(name)
        var address = cluster
        address.database = name
        return TestDatabase(address: address, name: name)
    }

    /// An empty database, not copied from the migrated template (for migration tests).
    public static func makeEmpty() async throws -> ServerAddress {
        var address = try await TestCluster.shared.address()
        let name = TestCluster.databaseName(prefix: "m")
        try await TestCluster.withConnection(address) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(name)"), logger: logger)
        }
        await DatabaseRegistry.current?.register(name)
        address.database = name
        return address
    }

    /// Runs `body` with a pool on this database.
    @discardableResult
    public func withDatabase<T: Sendable>(connections: Int = 3, _ body: @Sendable (Database) async throws -> T) async throws -> T {
        try await SessionGate.shared.run {
            try await Database.withDatabase(address, logger: Self.logger, maximumConnections: connections, body)
        }
    }

    /// The first column of the first row, as text.
    public func value(_ sql: String) async throws -> String? {
        try await TestCluster.withConnection(address) { connection in
            for try await text in try await connection.query(PostgresQuery(unsafeSQL: "SELECT (\(sql))::text"), logger: Self.logger)
                .decode(String?.self) {
                return text
            }
            return nil
        }
    }

    /// Ingests CSV text through the real path (archive, parse, COPY, merge).
    public func ingest(_ kind: FeedKind, csv: String, year: Int? = nil, now: Date? = nil) async throws -> UploadSummary {
        try await ingest(kind, bytes: Array(csv.utf8), fileName: "test.csv", year: year, now: now)
    }

    public func ingest(_ kind: FeedKind, bytes: [UInt8], fileName: String, year: Int? = nil, now: Date? = nil,
                configure: @Sendable (inout IngestRequest) -> Void = { _ in }) async throws -> UploadSummary {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-\(UUID().uuidString)-\(fileName)")
        try Data(bytes).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var request = IngestRequest(kind: kind, uploader: "tests", fileName: fileName)
        request.year = year
        request.now = now
        configure(&request)
        let finalRequest = request
        let report = try await withDatabase { db in
            try await IngestService(database: db).ingest(file: file, request: finalRequest)
        }
        return UploadSummary(report)
    }

    /// Every column as text (NULL → nil), rows in the query's order.
    public func rows(_ sql: String) async throws -> [[String: String?]] {
        try await Self.rows(sql, address: address)
    }

    public func execute(_ sql: String) async throws {
        try await TestCluster.withConnection(address) { connection in
            for statement in SQLScript.statements(sql) {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: Self.logger)
            }
        }
    }

    /// The same, connected as a login role that is a member of envmon_analyst.
    public func rowsAsAnalyst(_ sql: String) async throws -> [[String: String?]] {
        try await execute("""
            DO $$ BEGIN
                IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'analyst_test') THEN
                    BEGIN
                        CREATE ROLE analyst_test LOGIN PASSWORD 'analyst-test-pw' IN ROLE envmon_analyst;
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                    END;
                END IF;
            END $$
            """)
        var analyst = address
        analyst.user = "analyst_test"
        analyst.password = "analyst-test-pw"
        return try await Self.rows(sql, address: analyst)
    }

    public static func rows(_ sql: String, address: ServerAddress) async throws -> [[String: String?]] {
        let wrapped = """
            SELECT (SELECT jsonb_object_agg(e.key, e.value #>> '{}') FROM jsonb_each(to_jsonb(q)) e)::text
            FROM (\(sql)) q
            """
        return try await TestCluster.withConnection(address) { connection in
            var result: [[String: String?]] = []
            for try await text in try await connection.query(PostgresQuery(unsafeSQL: wrapped), logger: logger).decode(String?.self) {
                guard let text, let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
                    result.append([:])
                    continue
                }
                var row: [String: String?] = [:]
                for (key, value) in object { row[key] = value as? String }
                result.append(row)
            }
            return result
        }
    }
}

/// The outcome of a test ingest: the `IngestReport`, with the upload id every test ingest has.
/// (Forwarded one by one: test files then need not import EnvMonServer to read them.)
public struct UploadSummary: Sendable, CustomStringConvertible {
    public let report: IngestReport

    public var id: Int64 { report.id ?? -1 }
    public var status: String { report.status.rawValue }
    public var rowsTotal: Int { report.rowsTotal }
    public var rowsLoaded: Int { report.rowsLoaded }
    public var rowsUnchanged: Int { report.rowsUnchanged }
    public var rowsRejected: Int { report.rowsRejected }
    public var rowsSkipped: Int { report.rowsSkipped }
    public var rowsSuperseded: Int { report.rowsSuperseded }
    public var duplicateOf: Int64? { report.duplicateOf }
    public var error: String? { report.error }
    public var loadedDirectly: Bool { report.loadedDirectly }
    public var description: String { "\(report)" }

    init(_ report: IngestReport) {
        self.report = report
    }
}

/// The test process's one embedded cluster.
public actor TestCluster {
    public static let shared = TestCluster()

    private var cached: ServerAddress?
    private var templateName: String?
    private var templateBuild: Task<String, any Error>?

    public static var home: URL {
        URL(fileURLWithPath: "/tmp/envmon-tests-\(getuid())")
    }

    public func address() throws -> ServerAddress {
        if let cached { return cached }
        let cluster = try EmbeddedPostgres(home: Self.home, logger: TestDatabase.logger)
        let info = try cluster.start()
        let address = ServerAddress(host: info.host, port: info.port, user: info.user, password: info.password,
                                    database: info.database, sslMode: .disable)
        cached = address
        return address
    }

    /// A fresh database name carrying this process's id, so that a later run can tell which
    /// leftovers belong to processes that have exited (`sweepAbandoned`).
    public static func databaseName(prefix: String) -> String {
        let random = UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        return "\(prefix)_\(getpid())_\(random)"
    }

    /// Drops a test database, waiting while its last sessions close.
    public static func drop(database name: String) async throws {
        let base = try await shared.address()
        try await whileInUse {
            try await withConnection(base) { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(name) WITH (FORCE)"),
                                               logger: TestDatabase.logger)
            }
        }
    }

    /// Drops the test databases (`t_<pid>_…`, `m_<pid>_…`) of processes that no longer run: a
    /// killed or crashed run leaves them behind, and the cluster outlives every run.
    static func sweepAbandoned(base: ServerAddress) async throws {
        let names: [String] = try await withConnection(base) { connection in
            var names: [String] = []
            for try await name in try await connection.query(
                "SELECT datname FROM pg_database WHERE datname ~ '^[tm]_[0-9]+_'", logger: TestDatabase.logger
            ).decode(String.self) {
                names.append(name)
            }
            return names
        }
        for name in names {
            let parts = name.split(separator: "_")
            guard parts.count >= 3, let pid = pid_t(parts[1]), pid != getpid() else { continue }
            if kill(pid, 0) == 0 || errno == EPERM { continue }
            try? await drop(database: name)
        }
    }

    /// A migrated template database named after the migrations' and views' checksums.
    public func template() async throws -> String {
        if let templateName { return templateName }
        // The actor suspends while building: every caller awaits the one build in flight.
        if let building = templateBuild { return try await building.value }
        let base = try address()
        let build = Task {
            try? await Self.sweepAbandoned(base: base)
            return try await Self.buildTemplate(base: base)
        }
        templateBuild = build
        let name = try await build.value
        templateName = name
        return name
    }

    private static func buildTemplate(base: ServerAddress) async throws -> String {
        let name = "tpl_\(Migrator.bundledChecksum.prefix(16))"
        let exists = try await Self.withConnection(base) { connection in
            var found = false
            for try await _ in try await connection.query(
                "SELECT 1 FROM pg_database WHERE datname = \(name)", logger: TestDatabase.logger).decode(Int.self) {
                found = true
            }
            return found
        }
        if !exists {
            let building = "\(name)_build_\(getpid())"
            try await Self.withConnection(base) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(building)"), logger: TestDatabase.logger)
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE DATABASE \(building)"), logger: TestDatabase.logger)
            }
            var target = base
            target.database = building
            _ = try await Database.withDatabase(target, logger: TestDatabase.logger, maximumConnections: 2) { db in
                try await Migrator(database: db).migrate()
            }
            // The migration pool's connections may still be closing: retry while the database is in use.
            try await Self.whileInUse {
                try await Self.withConnection(base) { connection in
                    _ = try await connection.query(PostgresQuery(unsafeSQL: "ALTER DATABASE \(building) RENAME TO \(name)"),
                                                   logger: TestDatabase.logger)
                }
            }
        }
        return name
    }

    /// Retries `body` for a while when PostgreSQL answers "database is being accessed by other users".
    public static func whileInUse(_ body: () async throws -> Void) async throws {
        for attempt in 1...50 {
            do {
                return try await body()
            } catch let error as PSQLError where error.serverInfo?[.sqlState] == "55006" && attempt < 50 {
                try await Task.sleep(for: .milliseconds(100))
            }
        }
    }

    /// Runs `body` on a new session, holding one of the gate's slots. A session that hangs
    /// (PostgresNIO never resumes a query whose server session was ended under it) is
    /// abandoned after two minutes with an error, so that one stuck session cannot hold a slot,
    /// and with 24 of them every other test, forever.
    @discardableResult
    public static func withConnection<T: Sendable>(
        _ address: ServerAddress, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await SessionGate.shared.run {
            try await abandoning(after: .seconds(120), timeout: {
                HarnessFailure(message: "a test session on \(address.database) did not finish in 120 s; abandoned")
            }) {
                try await connected(address, body)
            }
        }
    }

    private static func connected<T: Sendable>(_ address: ServerAddress, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        let connection = try await PostgresConnection.connect(
            configuration: try Database.connectionConfiguration(address), id: 1, logger: TestDatabase.logger)
        do {
            let result = try await body(connection)
            try await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}


/// Limits how many database sessions the parallel tests hold at once, so that hundreds of
/// parameterised cases never exhaust the cluster's connections.
///
/// The gate must never be what stops a run: a waiter that has waited `overdue` (five minutes;
/// every slot held that long by tests that do not finish) is let in over the limit, and a
/// watchdog prints the gate's state to standard error then — who holds the slots and since
/// when — so a run that does stall says where. The cluster allows 300 connections, far above
/// the limit.
public final class SessionGate: @unchecked Sendable {
    public static let shared = SessionGate(limit: 24)

    /// Set while a task (and its children) holds a session: nested sessions do not wait again,
    /// so the gate can never deadlock on itself.
    @TaskLocal static var holding = false

    /// Runs `body` holding one of the gate's sessions.
    public func run<T>(_ body: () async throws -> T) async throws -> T {
        if Self.holding { return try await body() }
        let ticket = await acquire(label: Self.label())
        defer { release(ticket) }
        return try await Self.$holding.withValue(true) { try await body() }
    }

    /// The running test's name, for the watchdog's report.
    static func label() -> String {
        guard let test = Test.current else { return "(no test)" }
        return test.displayName ?? test.name
    }

    private struct Waiter {
        var ticket: Int
        var label: String
        var since: ContinuousClock.Instant
        var continuation: CheckedContinuation<Int, Never>
    }

    private let lock = NSLock()
    private let limit: Int
    private let overdue: Duration
    private var nextTicket = 0
    private var holders: [Int: (label: String, since: ContinuousClock.Instant)] = [:]
    private var waiting: [Waiter] = []
    private var watching = false

    init(limit: Int, overdue: Duration = .seconds(300)) {
        self.limit = limit
        self.overdue = overdue
    }

    func acquire(label: String) async -> Int {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int, Never>) in
            let admitted: Int? = lock.withLock {
                nextTicket += 1
                if holders.count < limit {
                    holders[nextTicket] = (label, .now)
                    return nextTicket
                }
                let ticket = nextTicket
                let waiter = Waiter(ticket: ticket, label: label, since: .now, continuation: continuation)
                waiting.append(waiter)
                startWatchdogLocked()
                return nil
            }
            if let admitted { continuation.resume(returning: admitted) }
        }
    }

    func release(_ ticket: Int) {
        let next: Waiter? = lock.withLock {
            holders[ticket] = nil
            guard holders.count < limit, !waiting.isEmpty else { return nil }
            let next = waiting.removeFirst()
            holders[next.ticket] = (next.label, .now)
            return next
        }
        next.map { $0.continuation.resume(returning: $0.ticket) }
    }

    /// A thread (not a task: it must run when every task is stuck) that looks at the gate every
    /// ten seconds while anyone waits; it lets in and reports waiters that are overdue.
    private func startWatchdogLocked() {
        guard !watching else { return }
        watching = true
        let thread = Thread { [self] in
            while true {
                sleep(10)
                let (report, admitted, done): (String?, [Waiter], Bool) = lock.withLock {
                    if waiting.isEmpty {
                        watching = false
                        return (nil, [], true)
                    }
                    let now = ContinuousClock.now
                    let late = waiting.filter { now - $0.since >= overdue }
                    guard !late.isEmpty else { return (nil, [], false) }
                    waiting.removeAll { now - $0.since >= overdue }
                    for waiter in late { holders[waiter.ticket] = (waiter.label, now) }
                    let held = holders.sorted { $0.value.since < $1.value.since }
                        .map { "  \($0.value.label) (\(Self.seconds(now - $0.value.since)))" }
                    let report = "SessionGate: \(late.count) waiter(s) overdue (\(late.map(\.label).joined(separator: "; "))) "
                        + "let in over the limit of \(limit); \(waiting.count) still waiting; slots held by:\n"
                        + held.joined(separator: "\n") + "\n"
                    return (report, late, false)
                }
                if let report { FileHandle.standardError.write(Data(report.utf8)) }
                for waiter in admitted { waiter.continuation.resume(returning: waiter.ticket) }
                if done { return }
            }
        }
        thread.start()
    }

    private static func seconds(_ duration: Duration) -> String {
        "\(duration.components.seconds) s"
    }
}

extension TestDatabase {
    /// The plan's default targets (the built-in alerts/targets.yaml), as a new embedded
    /// database gets them.
    public static func seedDefaultTargets(_ database: Database) async throws {
        let targets = try AlertConfiguration.load(directory: nil, environment: [:]).targets
        try await PlanStore(database: database).seedTargetsIfEmpty(targets.targets)
    }
}

