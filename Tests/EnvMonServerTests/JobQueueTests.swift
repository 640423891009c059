import EnvMonDomain
@testable import EnvMonServer
@testable import EnvMonStore
import EnvMonTestSupport
import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import Testing

@Suite("The durable job queue and its workers", .timeLimit(.minutes(10)), .temporaryDatabases)
struct JobQueueTests {
    /// Archives CSV text with a queued job, as the HTTP and inbox paths do.
    static func enqueue(_ db: Database, csv: String) async throws -> Int64 {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-q-\(UUID().uuidString).csv")
        try Data(csv.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var request = IngestRequest(kind: .emissions, uploader: "tests", fileName: "q.csv")
        request.source = .http
        request.format = .csv
        return try await Intake(database: db).accept(try SurveyedFile.survey(file), request: request).uploadID
    }

    /// Runs a pool of workers until `done` says so (or the time runs out), then shuts it down gracefully.
    static func runWorkers(
        _ db: Database, count: Int, name: String, lease: Duration = .seconds(1), metrics: ServiceMetrics = ServiceMetrics(),
        until done: @escaping @Sendable () async throws -> Bool
    ) async throws {
        let workers = IngestWorkers(queue: JobQueue(database: db, lease: lease), count: count, name: name,
                                    pollInterval: .milliseconds(20), metrics: metrics, logger: Harness.logger)
        let group = ServiceGroup(configuration: .init(services: [workers], logger: Harness.logger))
        try await Harness.bounded("the workers") {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let deadline = ContinuousClock.now + .seconds(300)
                while try await !done(), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(50))
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    static func status(_ testDB: TestDatabase, upload: Int64) async throws -> String? {
        try await testDB.value("SELECT status FROM envmon.upload WHERE id = \(upload)")
    }

    @Test("a worker that died holding a job: the job is claimed again after the lease and loaded exactly once")
    func abandonedJobIsRetried() async throws {
        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let id = try await Self.enqueue(db, csv: Feed.emissions(rows: 3))
            // The dead worker: claims with a short lease and never comes back. (Five seconds, not
            // one: on a busy machine one second could pass before the next line asks.)
            let dead = try #require(try await JobQueue(database: db, lease: .seconds(5)).claim(worker: "dead:1"))
            #expect(dead.uploadID == id)
            #expect(try await JobQueue(database: db).claim(worker: "eager:1") == nil)  // leased: nobody else may take it
            try await Self.runWorkers(db, count: 1, name: "alive") {
                try await Self.status(testDB, upload: id) == "loaded"
            }
            #expect(try await testDB.value("SELECT attempts FROM envmon.ingest_job") == "2")
            #expect(try await testDB.value("SELECT status FROM envmon.ingest_job") == "done")
            #expect(try await testDB.value("SELECT rows_loaded FROM envmon.upload WHERE id = \(id)") == "3")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.emission_reading") == "3")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.emission_reading_history") == "0")
        }
    }

    @Test("a worker that committed the load but died before completing the job: the retry does not load again")
    func committedLoadIsNotRepeated() async throws {
        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let id = try await Self.enqueue(db, csv: Feed.emissions(rows: 2, seed: 5))
            _ = try #require(try await JobQueue(database: db, lease: .seconds(1)).claim(worker: "dead:1"))
            let first = try await IngestService(database: db).loadQueued(uploadID: id)
            #expect(first.rowsLoaded == 2)
            // The load's commit ended the job too: killed right here, nothing would stay running.
            #expect(try await testDB.value("SELECT status FROM envmon.ingest_job") == "done")
            try await Self.runWorkers(db, count: 1, name: "alive") {
                try await testDB.value("SELECT status FROM envmon.ingest_job") == "done"
            }
            #expect(try await testDB.value("SELECT rows_loaded FROM envmon.upload WHERE id = \(id)") == "2")
            #expect(try await testDB.value("SELECT rows_unchanged FROM envmon.upload WHERE id = \(id)") == "0")
        }
    }

    @Test("a job whose worker dies on its last attempt fails, and so does its upload, with the reason")
    func exhaustedJobFails() async throws {
        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let id = try await Self.enqueue(db, csv: Feed.emissions(rows: 2, seed: 9))
            try await testDB.execute("UPDATE envmon.ingest_job SET max_attempts = 1")
            let queue = JobQueue(database: db, lease: .seconds(1))
            _ = try #require(try await queue.claim(worker: "dead:1"))
            try await Task.sleep(for: .milliseconds(1300))
            #expect(try await queue.claim(worker: "late:1") == nil)
            #expect(try await testDB.value("SELECT status FROM envmon.ingest_job") == "failed")
            #expect(try await Self.status(testDB, upload: id) == "failed")
            let reason = try #require(try await testDB.value("SELECT error FROM envmon.upload WHERE id = \(id)"))
            #expect(reason.contains("gave up after 1 attempts"))
        }
    }

    @Test("a worker cancelled mid-load: the upload is still loaded exactly once")
    func cancelledWorker() async throws {
        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let id = try await Self.enqueue(db, csv: Feed.emissions(rows: 4, seed: 2))
            // Hold a lock the load needs, so that the worker is stuck inside its transaction.
            try await TestCluster.withConnection(testDB.address) { blocker in
                try await blocker.query("BEGIN", logger: Harness.logger)
                try await blocker.query("LOCK TABLE envmon.emission_series IN ACCESS EXCLUSIVE MODE", logger: Harness.logger)
                let workers = IngestWorkers(queue: JobQueue(database: db, lease: .seconds(1)), count: 1, name: "doomed",
                                            pollInterval: .milliseconds(20), metrics: ServiceMetrics(), logger: Harness.logger)
                let task = Task { try await workers.run() }
                let deadline = ContinuousClock.now + .seconds(20)
                while try await testDB.value("SELECT status FROM envmon.ingest_job") != "running", ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(20))
                }
                try await Task.sleep(for: .milliseconds(200))
                task.cancel()
                try await blocker.query("ROLLBACK", logger: Harness.logger)
                _ = await task.result
            }
            try await Self.runWorkers(db, count: 1, name: "rescuer") {
                let upload = try await Self.status(testDB, upload: id)
                let job = try await testDB.value("SELECT status FROM envmon.ingest_job")
                return upload == "loaded" && job == "done"
            }
            #expect(try await testDB.value("SELECT count(*) FROM envmon.emission_reading") == "4")
            #expect(try await testDB.value("SELECT rows_loaded FROM envmon.upload WHERE id = \(id)") == "4")
        }
    }

    @Test("two worker pools on one database never load a job twice")
    func twoPools() async throws {
        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase(connections: 16) { db in
            var ids: [Int64] = []
            for index in 0..<20 {
                ids.append(try await Self.enqueue(db, csv: Feed.emissions(enterprise: "E\(index)", rows: 2)))
            }
            let (a, b) = (ServiceMetrics(), ServiceMetrics())
            let allDone: @Sendable () async throws -> Bool = {
                try await testDB.value("SELECT count(*) FROM envmon.ingest_job WHERE status = 'done'") == "20"
            }
            async let poolA: Void = Self.runWorkers(db, count: 3, name: "pool-a", lease: .seconds(30), metrics: a, until: allDone)
            async let poolB: Void = Self.runWorkers(db, count: 3, name: "pool-b", lease: .seconds(30), metrics: b, until: allDone)
            _ = try await (poolA, poolB)
            let failures = try await testDB.value("SELECT string_agg(DISTINCT error, ' | ') FROM envmon.upload WHERE status <> 'loaded'")
            #expect(failures == nil, "uploads not loaded: \(failures ?? "")")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.ingest_job WHERE status = 'done'") == "20")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.upload WHERE status = 'loaded' AND rows_loaded = 2") == "20")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.emission_reading") == "40")
            let loads = Self.loadedCount(a) + Self.loadedCount(b)
            #expect(loads == 20)
        }
    }

    /// `envmon_uploads_total{status="loaded",source="queue"}` of one pool.
    static func loadedCount(_ metrics: ServiceMetrics) -> Int {
        for line in metrics.render().split(separator: "\n") where line.hasPrefix("envmon_uploads_total")
            && line.contains("status=\"loaded\"") {
            return Int(line.split(separator: " ").last ?? "") ?? 0
        }
        return 0
    }
}
