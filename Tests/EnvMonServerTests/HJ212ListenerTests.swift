import EnvMonAlerting
import EnvMonDomain
import EnvMonHJ212
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import EmbeddedPostgres
import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import ServiceLifecycle
import Synchronization
import Testing

/// Runs `envmon serve` with the HJ 212 listener on loopback (real NIO listener, real database).
enum HJ212Harness {
    final class PortBox: Sendable {
        let port = Mutex<Int?>(nil)
        /// Why the service group ended before the listener accepted, if it did.
        let ended = Mutex<String?>(nil)
    }

    static let china = HJ212Encoder.chinaStandardTime

    /// Builds the application with `--hj212 127.0.0.1:0`, waits until the listener accepts,
    /// runs `body` with its port and a pool of the test's own, then shuts down gracefully.
    static func withListener(
        _ testDB: TestDatabase, configure: @Sendable (inout HJ212Configuration) -> Void = { _ in },
        _ body: @escaping @Sendable (Int, Database) async throws -> Void
    ) async throws {
        var server = ServerConfiguration.test
        server.workers = 0
        var hj = HJ212Configuration(host: "127.0.0.1", port: 0)
        hj.commitInterval = .milliseconds(20)
        let box = PortBox()
        hj.onListening = { port in box.port.withLock { $0 = port } }
        configure(&hj)
        server.hj212 = hj
        let app = try Harness.application(testDB, config: server)
        let group = ServiceGroup(configuration: .init(services: [app], logger: Harness.logger))
        try await Harness.bounded("the HJ 212 listener") {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    do {
                        try await group.run()
                        box.ended.withLock { $0 = $0 ?? "the service group ended" }
                    } catch {
                        box.ended.withLock { $0 = "the service group failed: \(error)" }
                        throw error
                    }
                }
                _ = try await LoggerClient.eventually(.seconds(240)) {
                    box.port.withLock { $0 } != nil || box.ended.withLock { $0 } != nil
                }
                guard let port = box.port.withLock({ $0 }) else {
                    await group.triggerGracefulShutdown()
                    throw HarnessFailure(message: box.ended.withLock { $0 } ?? "the HJ 212 listener did not start")
                }
                do {
                    try await testDB.withDatabase { db in try await body(port, db) }
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }

    /// A framed hourly (CN 2061) packet; QN from `qnTime`.
    static func hourly(
        mn: String = "MN001", pw: String = "pw-1", at dataTime: Date, qnTime: Date = Date(), reply: Bool = true,
        values: [HJ212UploadValue]
    ) throws -> (bytes: [UInt8], qn: String) {
        let packet = try HJ212Encoder.dataUpload(.hourly, st: "31", pw: pw, mn: mn, dataTime: dataTime, now: qnTime,
                                                 timeZone: china, needsReply: reply, values: values)
        return (try HJ212Encoder.encode(packet), packet.qn ?? "")
    }

    static func frame(_ segment: String) throws -> [UInt8] {
        try HJ212Encoder.frame(segment: Array(segment.utf8))
    }

    /// The start of the hour `hoursAgo` hours before now.
    static func hour(_ hoursAgo: Int) -> Date {
        let now = Date().timeIntervalSince1970
        return Date(timeIntervalSince1970: (now / 3600).rounded(.down) * 3600 - Double(hoursAgo) * 3600)
    }

    static func register(_ db: Database, mn: String = "MN001", pw: String = "pw-1", enterprise: String = "E1",
                         outlet: String = "DA001") async throws {
        _ = try await DataLoggerStore(database: db).add(mn: mn, password: pw, enterpriseID: enterprise, outletID: outlet,
                                                        name: nil, createdBy: "test")
    }

    /// The outcomes archived so far, in order of receipt.
    static func outcomes(_ testDB: TestDatabase) async throws -> [String] {
        let text = try await testDB.value("SELECT string_agg(outcome, ',' ORDER BY id) FROM envmon.hj212_packet") ?? ""
        return text.isEmpty ? [] : text.split(separator: ",").map(String.init)
    }

    static func waitForPackets(_ testDB: TestDatabase, _ count: Int) async throws -> [String] {
        _ = try await LoggerClient.eventually { try await outcomes(testDB).count >= count }
        return try await outcomes(testDB)
    }

    /// The QNs of the CN 9014 answers received, each checked for framing and CRC independently.
    static func answeredQNs(_ client: LoggerClient) -> [String] {
        client.replies.compactMap { line in
            guard let segment = IndependentCRC.verifiedSegment(line), segment.contains(";CN=9014;"),
                  segment.contains(";ST=91;"), segment.hasSuffix("CP=&&&&") else { return "invalid: \(line)" }
            let qn = segment.split(separator: ";").first { $0.hasPrefix("QN=") }
            return qn.map { String($0.dropFirst(3)) } ?? "no QN: \(line)"
        }
    }
}

@Suite("HJ212 listener: framing, devices, replies", .timeLimit(.minutes(10)), .temporaryDatabases)
struct HJ212ListenerTests {
    static let samplesFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("EnvMonHJ212Tests/Fixtures/hj212_samples.txt")

    @Test("the independent CRC agrees with the standard's check value")
    func independentCRC() {
        #expect(IndependentCRC.checksum("123456789") == 0x2F80)
    }

    @Test("the real sample packets: verified ones taken, the two with bad CRCs archived as bad_crc, answers framed and CRC'd")
    func samplePackets() async throws {
        let testDB = try await TestDatabase.make()
        let lines = try String(contentsOf: Self.samplesFile, encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("##") }
        #expect(lines.count == 12)
        try await HJ212Harness.withListener(testDB) { port, db in
            for (mn, pw) in [("010000A8900016F000169DC0", "123456"), ("Y80110010000010", "123456"), ("ZLDSZ20210127", "123456"),
                             ("Z13401000010301", "BF470F88957588DE902D1A52"), ("JLYP01_AIR01_0001", "123456"),
                             ("41050022000017", "123456"), ("88888880000001", "123456"), ("4201003", "123456")] {
                try await HJ212Harness.register(db, mn: mn, pw: pw)
            }
            let client = try await LoggerClient.connect(port: port)
            for line in lines { try await client.send(Array(line.utf8) + [13, 10]) }
            let outcomes = try await HJ212Harness.waitForPackets(testDB, 12)
            #expect(outcomes == ["bad_password", "stored", "stored", "stored", "stored", "unsupported", "unsupported",
                                 "stored", "stored", "stored", "bad_crc", "bad_crc"])
            // Flag=5 packets that passed: 2061, 2081 (unsupported but received), 2011 with SampleTime.
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count >= 3 })
            #expect(HJ212Harness.answeredQNs(client) == ["20190925181031464", "20231008130452757", "20231008123340461"])
            // The 2011 packets' mapped values went to the minute table; the 2061 one had no mapped code.
            #expect(try await testDB.value("SELECT count(*) FROM envmon.hj212_minute WHERE mn = 'Y80110010000010'") == "1")
            #expect(try await testDB.value("""
                SELECT detail FROM envmon.hj212_packet WHERE cn = '2061'
                """)?.contains("codes envmon does not store: a34006") == true)
            #expect(try await testDB.value("""
                SELECT count(*) FROM analytics.hj212_packets WHERE outcome = 'bad_crc' AND detail LIKE 'CRC A6EC received, 0440 computed%'
                """) == "1")
            await client.close()
        }
        // The console's 在线监测 page shows the same: the loggers with today's packets, and the
        // refused ones with why.
        try #require(try await ConsoleSessionTests.addUser(CLIProcessTests.url(testDB.address), "监测员", role: "viewer").status == 0)
        let app = try Harness.application(testDB)
        try await app.test(.router) { client in
            let secret = try #require(ConsoleSessionTests.cookie(try await ConsoleSessionTests.signIn(client, "监测员", ConsoleSessionTests.password)))
            let page = try await client.execute(uri: "/devices", method: .get, headers: ConsoleSessionTests.withCookie(secret))
            #expect(page.status == .ok)
            let html = String(buffer: page.body)
            let expected = try await testDB.rows("SELECT mn, stored_today::text AS stored FROM analytics.device_status ORDER BY mn")
            #expect(expected.count == 8)
            for device in expected {
                let mn = device["mn"].flatMap { $0 } ?? ""
                let stored = device["stored"].flatMap { $0 } ?? ""
                #expect(html.contains("<th scope=\"row\"><code>\(mn)</code></th>"), "\(mn)")
                #expect(html.range(of: "<code>\(mn)</code></th>.*?<td class=\"number\">\(stored)</td>", options: .regularExpression) != nil, "\(mn) \(stored)")
            }
            #expect(html.components(separatedBy: "<td>校验错误</td>").count == 3)
            #expect(html.contains("<td>密码错误</td>"))
            #expect(html.contains(#"aria-current="page">在线监测</a>"#))
        }
    }

    @Test("a packet byte by byte, two packets in one write, junk before a packet: each stored and answered")
    func framingOverTCP() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            let base = Date()
            func packet(_ hoursAgo: Int, _ n: Int) throws -> (bytes: [UInt8], qn: String) {
                try HJ212Harness.hourly(at: HJ212Harness.hour(hoursAgo), qnTime: base.addingTimeInterval(Double(n)),
                                        values: [HJ212UploadValue(code: "a21026", avg: 10 + Double(n))])
            }
            let first = try packet(3, 1)
            let byByte = try await LoggerClient.connect(port: port)
            for byte in first.bytes { try await byByte.send([byte]) }
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(byByte) == [first.qn] })

            let (second, third) = (try packet(4, 2), try packet(5, 3))
            let joined = try await LoggerClient.connect(port: port)
            try await joined.send(second.bytes + third.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(joined) == [second.qn, third.qn] })

            let fourth = try packet(6, 4)
            let junk = try await LoggerClient.connect(port: port)
            try await junk.send(Array("garbage\r\n#x##zz\u{7}".utf8) + fourth.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(junk) == [fourth.qn] })

            #expect(try await HJ212Harness.outcomes(testDB) == ["stored", "stored", "stored", "stored"])
            #expect(try await testDB.value("""
                SELECT stored_today || '/' || duplicate_today || '/' || online::text FROM analytics.device_status
                WHERE mn = 'MN001'
                """) == "4/0/true")
            #expect(try await testDB.value("""
                SELECT count(*) FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
                WHERE s.enterprise_id = 'E1' AND s.outlet_id = 'DA001' AND s.pollutant = 'SO2' AND r.upload_id < 0
                  AND r.extra ->> 'source' = 'hj212'
                """) == "4")
            for client in [byByte, joined, junk] { await client.close() }
        }
    }

    @Test("16 KB of garbage closes the connection; the listener goes on serving")
    func garbageClosesTheConnection() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            let hostile = try await LoggerClient.connect(port: port)
            // A frame start that never ends: the buffer bound closes the connection.
            try await hostile.send(Array("##9999QN=".utf8) + [UInt8](repeating: UInt8(ascii: "A"), count: 16 * 1024))
            #expect(try await LoggerClient.eventually { hostile.isClosed })
            let good = try await LoggerClient.connect(port: port)
            let packet = try HJ212Harness.hourly(at: HJ212Harness.hour(2), values: [HJ212UploadValue(code: "a21026", avg: 12)])
            try await good.send(packet.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(good) == [packet.qn] })
            await good.close()
        }
    }

    @Test("unknown MN, wrong password, retired device: archived, nothing stored, no answer")
    func refusedDevices() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            try await HJ212Harness.register(db, mn: "OLD01", pw: "pw-old")
            _ = try await DataLoggerStore(database: db).retire(mn: "OLD01", by: "test")
            let client = try await LoggerClient.connect(port: port)
            let time = HJ212Harness.hour(2)
            let value = [HJ212UploadValue(code: "a21026", avg: 12)]
            let unknown = try HJ212Harness.hourly(mn: "NOBODY", at: time, qnTime: Date(timeIntervalSinceNow: -3), values: value)
            let wrong = try HJ212Harness.hourly(pw: "guess", at: time, qnTime: Date(timeIntervalSinceNow: -2), values: value)
            let retired = try HJ212Harness.hourly(mn: "OLD01", pw: "pw-old", at: time, qnTime: Date(timeIntervalSinceNow: -1),
                                                  values: value)
            let good = try HJ212Harness.hourly(at: time, values: value)
            for packet in [unknown, wrong, retired] { try await client.send(packet.bytes) }
            _ = try await HJ212Harness.waitForPackets(testDB, 3)
            try await client.send(good.bytes)
            // Answers come in order: the first answer is the good packet's.
            #expect(try await LoggerClient.eventually { !HJ212Harness.answeredQNs(client).isEmpty })
            #expect(HJ212Harness.answeredQNs(client) == [good.qn])
            #expect(try await HJ212Harness.outcomes(testDB) == ["unknown_device", "bad_password", "unknown_device", "stored"])
            #expect(try await testDB.value("""
                SELECT bad_password_today || '/' || stored_today FROM analytics.device_status WHERE mn = 'MN001'
                """) == "1/1")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.emission_reading") == "1")
            #expect(try await testDB.value("SELECT count(*) FROM analytics.hj212_packets WHERE raw_text LIKE '##%'") == "4")
            await client.close()
        }
    }

    @Test("a retransmission changes nothing; a changed value supersedes with history and keeps daily aggregates right")
    func retransmission() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            let client = try await LoggerClient.connect(port: port)
            let time = HJ212Harness.hour(30)
            let first = try HJ212Harness.hourly(at: time, qnTime: Date(timeIntervalSinceNow: -2),
                                                values: [HJ212UploadValue(code: "a21026", avg: 20, zsAvg: 25),
                                                         HJ212UploadValue(code: "a19001", avg: 9)])
            try await client.send(first.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == 1 })
            try await client.send(first.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == 2 })
            let changed = try HJ212Harness.hourly(at: time, values: [HJ212UploadValue(code: "a21026", avg: 30, zsAvg: 36),
                                                                    HJ212UploadValue(code: "a19001", avg: 9)])
            try await client.send(changed.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == 3 })
            #expect(try await HJ212Harness.outcomes(testDB) == ["stored", "duplicate", "stored"])
            let so2 = "(SELECT series_id FROM envmon.emission_series WHERE pollutant = 'SO2')"
            #expect(try await testDB.value("SELECT value FROM envmon.emission_reading WHERE series_id = \(so2)") == "30")
            #expect(try await testDB.value("SELECT corrected FROM envmon.emission_reading WHERE series_id = \(so2)") == "36")
            #expect(try await testDB.value("SELECT o2 FROM envmon.emission_reading WHERE series_id = \(so2)") == "9")
            #expect(try await testDB.value("""
                SELECT value || '/' || (superseded_by < 0)::text FROM envmon.emission_reading_history WHERE series_id = \(so2)
                """) == "20/true")
            #expect(try await testDB.value("""
                SELECT valid_count || '/' || value_sum || '/' || corrected_sum FROM envmon.emission_daily WHERE series_id = \(so2)
                """) == "1/30/36")
            await client.close()
        }
    }

    @Test("with four group commits at once: one hour's values sent back to back (two in one write) commit in the order sent, and many loggers' packets each once")
    func concurrentCommitsKeepOrder() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB, configure: { $0.committers = 4; $0.commitInterval = .milliseconds(1) }) { port, db in
            let others = 12
            try await HJ212Harness.register(db)
            for n in 0..<others { try await HJ212Harness.register(db, mn: "MN-O\(n)", enterprise: "E-O\(n)") }
            let time = HJ212Harness.hour(20)
            // Five values of one hour, written without waiting for answers.
            let client = try await LoggerClient.connect(port: port)
            var sent: [[UInt8]] = []
            for (n, so2) in [10.0, 20, 30, 40, 50].enumerated() {
                sent.append(try HJ212Harness.hourly(at: time, qnTime: Date(timeIntervalSinceNow: Double(n - 10)),
                                                    values: [HJ212UploadValue(code: "a21026", avg: so2)]).bytes)
            }
            // Meanwhile other loggers, each its own hour series, keep the other committers busy.
            var loggers: [LoggerClient] = []
            for n in 0..<others {
                let other = try await LoggerClient.connect(port: port)
                loggers.append(other)
                for hour in 1...3 {
                    try await other.send(try HJ212Harness.hourly(mn: "MN-O\(n)", at: HJ212Harness.hour(hour),
                                                                 values: [HJ212UploadValue(code: "a21026", avg: Double(hour))]).bytes)
                }
            }
            // The first two in ONE write (one read, as a logger catching up sends them), the rest one by one.
            try await client.send(sent[0] + sent[1])
            for bytes in sent.dropFirst(2) { try await client.send(bytes) }
            #expect(try await LoggerClient.eventually {
                HJ212Harness.answeredQNs(client).count == 5 && loggers.allSatisfy { HJ212Harness.answeredQNs($0).count == 3 }
            })
            #expect(try await HJ212Harness.outcomes(testDB) == Array(repeating: "stored", count: 5 + 3 * others))
            let so2 = "(SELECT series_id FROM envmon.emission_series WHERE enterprise_id = 'E1' AND pollutant = 'SO2')"
            #expect(try await testDB.value("SELECT value FROM envmon.emission_reading WHERE series_id = \(so2)") == "50")
            // Each value superseded by the packet after it: history in the order sent.
            #expect(try await testDB.value("""
                SELECT string_agg(value::text, ',' ORDER BY -superseded_by) FROM envmon.emission_reading_history
                 WHERE series_id = \(so2)
                """) == "10,20,30,40")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.emission_reading") == "\(1 + 3 * others)")
            #expect(try await testDB.value("SELECT count(*) FROM envmon.emission_reading_history") == "4")
            await client.close()
            for other in loggers { await other.close() }
        }
    }

    @Test("a split message (PNUM/PNO) is joined: both parts archived, the values of both stored, each part answered")
    func splitMessage() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            let time = dataTimeText(HJ212Harness.hour(5))
            let head = "QN=20260101120000001;ST=31;CN=2061;PW=pw-1;MN=MN001;Flag=7;PNUM=2;PNO="
            let part1 = try HJ212Harness.frame(head + "1;CP=&&DataTime=\(time);a21026-Avg=11,a21026-Flag=N&&")
            let part2 = try HJ212Harness.frame(head + "2;CP=&&DataTime=\(time);a21002-Avg=22,a21002-Flag=N&&")
            let client = try await LoggerClient.connect(port: port)
            try await client.send(part2)
            try await client.send(part1)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == 2 })
            #expect(HJ212Harness.answeredQNs(client) == ["20260101120000001", "20260101120000001"])
            #expect(try await HJ212Harness.outcomes(testDB) == ["stored", "stored"])
            #expect(try await testDB.value("""
                SELECT string_agg(s.pollutant || '=' || r.value, ',' ORDER BY s.pollutant)
                FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
                """) == "NOx=22,SO2=11")
            await client.close()
        }
    }

    @Test("a 2005-style packet (no QN, no Flag, 3-digit codes) is stored through the code table; no answer")
    func packet2005() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db, mn: "88888880000001", pw: "123456")
            let time = dataTimeText(HJ212Harness.hour(3))
            let bytes = try HJ212Harness.frame(
                "ST=31;CN=2061;PW=123456;MN=88888880000001;CP=&&DataTime=\(time);02-Avg=31.5,02-Flag=N;03-Avg=40,03-Flag=N&&")
            let client = try await LoggerClient.connect(port: port)
            try await client.send(bytes)
            #expect(try await HJ212Harness.waitForPackets(testDB, 1) == ["stored"])
            #expect(try await testDB.value("""
                SELECT string_agg(s.pollutant || '=' || r.value, ',' ORDER BY s.pollutant)
                FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
                """) == "NOx=40,SO2=31.5")
            #expect(client.received.isEmpty)
            await client.close()
        }
    }

    @Test("flags per HJ 212: N counts, others are stored and excluded from the daily mean")
    func dataFlags() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            let client = try await LoggerClient.connect(port: port)
            let a = try HJ212Harness.hourly(at: HJ212Harness.hour(40), qnTime: Date(timeIntervalSinceNow: -1),
                                            values: [HJ212UploadValue(code: "a21026", avg: 10, flag: .normal)])
            let b = try HJ212Harness.hourly(at: HJ212Harness.hour(41), values: [HJ212UploadValue(code: "a21026", avg: 99, flag: .calibration)])
            try await client.send(a.bytes + b.bytes)
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == 2 })
            #expect(try await testDB.value("SELECT string_agg(flag, ',' ORDER BY measured_at) FROM envmon.emission_reading") == "C,N")
            #expect(try await testDB.value("SELECT sum(valid_count) || '/' || sum(flagged_count) FROM envmon.emission_daily") == "1/1")
            await client.close()
        }
    }

    @Test("an hour without CN 2061 gets a value from ≥ 45 valid minutes (CN 2051); 44 are not enough; 2031 daily stored and compared")
    func derivedHoursAndDaily() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB) { port, db in
            try await HJ212Harness.register(db)
            var bytes: [UInt8] = []
            for (hour, count) in [(3, 45), (4, 44)] {
                for minute in 0..<count {
                    let packet = try HJ212Encoder.dataUpload(
                        .minute, st: "31", pw: "pw-1", mn: "MN001",
                        dataTime: HJ212Harness.hour(hour).addingTimeInterval(Double(minute) * 60), now: Date(),
                        timeZone: HJ212Harness.china, needsReply: false,
                        values: [HJ212UploadValue(code: "a21026", avg: Double(minute))])
                    bytes += try HJ212Encoder.encode(packet)
                }
            }
            let client = try await LoggerClient.connect(port: port)
            try await client.send(bytes)
            #expect(try await HJ212Harness.waitForPackets(testDB, 89).allSatisfy { $0 == "stored" })
            #expect(try await PacketArchive(database: db).deriveHours() == 1)
            #expect(try await PacketArchive(database: db).deriveHours() == 0)
            #expect(try await testDB.value("""
                SELECT value || '/' || (extra ->> 'derived_from_minutes') FROM envmon.emission_reading
                """) == "22/45")
            // The device's daily value for that day, against the mean of its one valid hour.
            let day = try HJ212Encoder.dataUpload(
                .daily, st: "31", pw: "pw-1", mn: "MN001", dataTime: HJ212Harness.hour(3), now: Date(),
                timeZone: HJ212Harness.china, needsReply: true, values: [HJ212UploadValue(code: "a21026", avg: 30)])
            try await client.send(try HJ212Encoder.encode(day))
            #expect(try await LoggerClient.eventually { HJ212Harness.answeredQNs(client).count == 1 })
            #expect(try await testDB.value("SELECT avg FROM envmon.hj212_daily") == "30")
            #expect(try await testDB.value("""
                SELECT device_mean || '/' || hourly_mean FROM analytics.hj212_daily_disagreements
                """) == "30/22")
            await client.close()
        }
    }

    @Test("a logger that connects and sends nothing is closed after the idle timeout")
    func idleTimeout() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB, configure: { $0.idleTimeout = .seconds(1) }) { port, _ in
            let client = try await LoggerClient.connect(port: port)
            #expect(try await LoggerClient.eventually(.seconds(30)) { client.isClosed })
        }
    }

    @Test("no answer before the commit: a packet whose transaction fails is not answered and not stored")
    func noReplyBeforeCommit() async throws {
        let testDB = try await TestDatabase.make()
        try await HJ212Harness.withListener(testDB, configure: { $0.commitLimit = .seconds(10) }) { port, db in
            try await HJ212Harness.register(db)
            let client = try await LoggerClient.connect(port: port)
            let lost = try HJ212Harness.hourly(at: HJ212Harness.hour(3), qnTime: Date(timeIntervalSinceNow: -1),
                                               values: [HJ212UploadValue(code: "a21026", avg: 1)])
            // Hold the archive table: the listener's commit waits for the lock …
            try await db.client.withTransaction(logger: Harness.logger) { tx in
                try await tx.query("LOCK TABLE envmon.hj212_packet IN ACCESS EXCLUSIVE MODE", logger: Harness.logger)
                try await client.send(lost.bytes)
                let waiting = try await LoggerClient.eventually {
                    try await testDB.value("""
                        SELECT count(*) FROM pg_stat_activity
                        WHERE application_name = \("'" + PacketArchive.applicationName + "'") AND wait_event_type = 'Lock'
                        """) == "1"
                }
                #expect(waiting)
                // … and its session is killed while it waits.
                try await tx.query("""
                    SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE application_name = 'envmon hj212' AND wait_event_type = 'Lock'
                    """, logger: Harness.logger)
                // The lock is released only once that session is gone.
                #expect(try await LoggerClient.eventually {
                    try await testDB.value("""
                        SELECT count(*) FROM pg_stat_activity WHERE application_name = 'envmon hj212'
                        """) == "0"
                })
                #expect(client.received.isEmpty)
            }
            // The next packet is committed and answered; the first never is.
            let next = try HJ212Harness.hourly(at: HJ212Harness.hour(4), values: [HJ212UploadValue(code: "a21026", avg: 2)])
            try await client.send(next.bytes)
            // Up to the committer's 30 s give-up on a commit whose connection died, and a busy machine.
            #expect(try await LoggerClient.eventually(.seconds(180)) { !HJ212Harness.answeredQNs(client).isEmpty })
            #expect(HJ212Harness.answeredQNs(client) == [next.qn])
            #expect(try await HJ212Harness.outcomes(testDB) == ["stored"])
            #expect(try await testDB.value("SELECT string_agg(value::text, ',') FROM envmon.emission_reading") == "2")
            // The failed commit registered the series and rolled back: the stored reading's series
            // is one that exists (the next commit registered it again; none remembered the lost id).
            #expect(try await testDB.value("""
                SELECT s.enterprise_id || '/' || s.pollutant
                  FROM envmon.emission_reading r JOIN envmon.emission_series s USING (series_id)
                """) == "E1/SO2")
            await client.close()
        }
    }
}

/// DataTime text of `date` in China Standard Time.
func dataTimeText(_ date: Date) -> String {
    var calendar = Calendar(identifier: .gregorian)
    calendar.timeZone = HJ212Harness.china
    let c = calendar.dateComponents([.year, .month, .day, .hour, .minute, .second], from: date)
    return String(format: "%04d%02d%02d%02d%02d%02d", c.year ?? 0, c.month ?? 0, c.day ?? 0, c.hour ?? 0, c.minute ?? 0,
                  c.second ?? 0)
}
