import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import Foundation
import ServiceLifecycle
import Testing

@Suite("The inbox folder", .timeLimit(.minutes(10)), .temporaryDatabases)
struct InboxTests {
    /// Runs an inbox watcher and one ingest worker on `db` until `done()` holds (at most 60 s),
    /// then stops them gracefully.
    static func runInbox(_ inbox: URL, on db: Database, until done: @escaping @Sendable () -> Bool) async throws {
        let metrics = ServiceMetrics()
        let watcher = InboxWatcher(directory: inbox, interval: .milliseconds(50), database: db, metrics: metrics,
                                   logger: Harness.logger)
        let workers = IngestWorkers(queue: JobQueue(database: db, lease: .seconds(5)), count: 1, name: "inbox-test",
                                    pollInterval: .milliseconds(20), metrics: metrics, logger: Harness.logger)
        let group = ServiceGroup(configuration: .init(services: [workers, watcher], logger: Harness.logger))
        try await Harness.bounded("the inbox watcher and workers") {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                let deadline = ContinuousClock.now + .seconds(300)
                while ContinuousClock.now < deadline, !done() {
                    try await Task.sleep(for: .milliseconds(50))
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    @Test("good files go to done/, bad ones to failed/ with a .error.txt; .part files wait")
    func doneAndFailed() async throws {
        let inbox = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-inbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: inbox) }
        let emissions = inbox.appendingPathComponent("emissions")
        try FileManager.default.createDirectory(at: emissions, withIntermediateDirectories: true)
        try Data(Feed.emissions(rows: 2, seed: 40).utf8).write(to: emissions.appendingPathComponent("march.csv"))
        try Data("station,reading\nA,1\n".utf8).write(to: emissions.appendingPathComponent("wrong-columns.csv"))
        try Data(Feed.emissions(rows: 1, seed: 41).utf8).write(to: emissions.appendingPathComponent("april.csv.part"))
        try Data("hidden".utf8).write(to: emissions.appendingPathComponent(".~lock.csv"))

        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let fm = FileManager.default
            try await Self.runInbox(inbox, on: db) {
                fm.fileExists(atPath: emissions.appendingPathComponent("done/march.csv").path)
                    && fm.fileExists(atPath: emissions.appendingPathComponent("failed/wrong-columns.csv.error.txt").path)
            }
            #expect(fm.fileExists(atPath: emissions.appendingPathComponent("done/march.csv").path))
            #expect(!fm.fileExists(atPath: emissions.appendingPathComponent("march.csv").path))
            #expect(fm.fileExists(atPath: emissions.appendingPathComponent("failed/wrong-columns.csv").path))
            let error = try String(contentsOf: emissions.appendingPathComponent("failed/wrong-columns.csv.error.txt"), encoding: .utf8)
            #expect(error.contains("failed"))
            #expect(fm.fileExists(atPath: emissions.appendingPathComponent("april.csv.part").path))
            #expect(fm.fileExists(atPath: emissions.appendingPathComponent(".~lock.csv").path))
            #expect(try await testDB.value("SELECT count(*) FROM envmon.upload WHERE uploader = 'inbox' AND source = 'inbox'") == "2")
            #expect(try await testDB.value("SELECT status FROM envmon.upload WHERE file_name = 'march.csv'") == "loaded")
        }
    }

    @Test("an Excel workbook dropped into the folder loads like a CSV and goes to done/")
    func workbook() async throws {
        let inbox = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-inbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: inbox) }
        let emissions = inbox.appendingPathComponent("emissions")
        try FileManager.default.createDirectory(at: emissions, withIntermediateDirectories: true)
        try WorkbookUploadTests.workbook().write(to: emissions.appendingPathComponent("三月小时数据.xlsx"))
        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let done = emissions.appendingPathComponent("done/三月小时数据.xlsx").path
            try await Self.runInbox(inbox, on: db) { FileManager.default.fileExists(atPath: done) }
            #expect(FileManager.default.fileExists(atPath: done))
            let upload = try await testDB.rows("SELECT status, format, rows_loaded::text AS loaded FROM envmon.upload")
            #expect(upload.count == 1)
            #expect(upload.first?["status"] == "loaded")
            #expect(upload.first?["format"] == "xlsx")
            #expect(upload.first?["loaded"] == "24")
        }
    }

    @Test("a 255-byte name already in done/ is moved under a shortened name, archived once")
    func longNameAlreadyDone() async throws {
        let inbox = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-inbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: inbox) }
        let sewage = inbox.appendingPathComponent("sewage")
        try FileManager.default.createDirectory(at: sewage.appendingPathComponent("done"), withIntermediateDirectories: true)
        let name = String(repeating: "污", count: 83) + "ab.csv"  // 83 × 3 + 6 = 255 bytes
        #expect(name.utf8.count == 255)
        try Data("an earlier file".utf8).write(to: sewage.appendingPathComponent("done/\(name)"))
        try Data("plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP1,2026-03,100,99\n".utf8)
            .write(to: sewage.appendingPathComponent(name))

        let testDB = try await TestDatabase.make()
        try await testDB.withDatabase { db in
            let fm = FileManager.default
            let waiting = sewage.appendingPathComponent(name).path
            try await Self.runInbox(inbox, on: db) { !fm.fileExists(atPath: waiting) }
            #expect(!fm.fileExists(atPath: sewage.appendingPathComponent(name).path))
            let done = try fm.contentsOfDirectory(atPath: sewage.appendingPathComponent("done").path)
            #expect(done.count == 2, "\(done)")
            #expect(done.allSatisfy { $0.utf8.count <= 255 && $0.hasSuffix(".csv") }, "\(done)")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.upload") == "1")
        }
    }

    @Test("the rename convention: names the inbox never takes", arguments: [
        ("march.csv", true), ("march.csv.part", false), ("march.csv.tmp", false), (".march.csv", false),
        ("报表.json", true), ("march.csv.error.txt", false),
    ])
    func candidates(_ name: String, _ taken: Bool) {
        #expect(InboxWatcher.isCandidate(name) == taken)
    }
}
