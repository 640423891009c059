import EnvMonDomain
@testable import EnvMonServer
import EnvMonTestSupport
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

@Suite("Greedy clients: upload rate and connection limits", .timeLimit(.minutes(10)), .temporaryDatabases)
struct TrafficLimitTests {
    @Test("a token's bucket holds a minute's uploads and refills at that rate")
    func bucket() {
        let limiter = UploadRateLimiter(perMinute: 2)
        let start = ContinuousClock.now
        #expect(limiter.take(token: 1, now: start) == nil)
        #expect(limiter.take(token: 1, now: start) == nil)
        #expect(limiter.take(token: 1, now: start) == 30)
        #expect(limiter.take(token: 2, now: start) == nil)  // another token has its own bucket
        #expect(limiter.take(token: 1, now: start + .seconds(20)) == 10)
        #expect(limiter.take(token: 1, now: start + .seconds(30)) == nil)
        #expect(UploadRateLimiter(perMinute: 0).take(token: 1) == nil)  // 0: no limit
    }

    @Test("beyond its uploads per minute a token gets 429 with Retry-After; other tokens and reads go on")
    func uploadsPerMinute() async throws {
        var config = ServerConfiguration.test
        config.uploadsPerMinute = 3
        try await Harness.withApp(config: config, workers: 0) { client, _, tokens in
            let csv = "plant_id,period,sewage_discharged_m3,sewage_treated_m3\nP1,2026-03,100,99\n"
            for index in 0..<3 {
                let response = try await client.execute(uri: "/v1/uploads?kind=sewage", method: .post, headers: Harness.csvHeaders(tokens.upload),
                                                        body: ByteBuffer(string: csv.replacingOccurrences(of: "99", with: "9\(index)")))
                #expect(response.status == .accepted)
            }
            let limited = try await client.execute(uri: "/v1/uploads?kind=sewage", method: .post, headers: Harness.csvHeaders(tokens.upload),
                                                   body: ByteBuffer(string: csv))
            #expect(limited.status == .tooManyRequests)
            let wait = Int(limited.headers[.retryAfter] ?? "")
            #expect(wait.map { (1...60).contains($0) } == true, "\(limited.headers)")
            #expect(try Harness.json(limited.body)["error"] as? String == "rate_limited")
            let other = try await client.execute(uri: "/v1/uploads?kind=sewage", method: .post, headers: Harness.csvHeaders(tokens.admin),
                                                 body: ByteBuffer(string: csv))
            #expect(other.status == .accepted)
            let read = try await client.execute(uri: "/v1/alerts", method: .get, headers: Harness.bearer(tokens.upload))
            #expect(read.status == .ok)
        }
    }

    @Test("beyond its connection limit a new connection is closed at once; when clients leave, new ones are served")
    func connectionLimit() async throws {
        let testDB = try await TestDatabase.make()
        var config = ServerConfiguration.test
        config.workers = 0
        config.maxConnections = 3
        _ = try await ServiceGroupTests.withLiveServer(testDB, config: config) { base in
            let port = try #require(Int(base.split(separator: ":").last ?? ""))
            // Five keep-alive clients, each with one request: at most three are admitted (the
            // readiness probe's pooled connection may hold a slot), the rest are closed unanswered.
            var sockets: [Int32] = []
            defer { for socket in sockets { close(socket) } }
            for _ in 0..<5 {
                sockets.append(try SlowClientTests.connect(port: port, sending: "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
            }
            var answered = 0
            var closed = 0
            for socket in sockets {
                switch try await Self.response(on: socket, polls: 1200) {
                case .some(let head) where head.hasPrefix("HTTP/1.1 200"): answered += 1
                case .none: closed += 1
                case .some(let other): Issue.record("unexpected answer: \(other)")
                }
            }
            #expect((1...3).contains(answered), "\(answered) answered")
            #expect(closed >= 2 && answered + closed == 5, "\(closed) closed")
            for socket in sockets { close(socket) }
            sockets.removeAll()
            // Once they are gone, a new client is served (the slots are given back).
            var served = 0
            for _ in 0..<600 where served != 200 {
                served = (try? await ServiceGroupTests.request("\(base)/healthz").0) ?? 0
                if served != 200 { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(served == 200)
        }
    }

    /// Reads what arrives on `socket` without blocking, every 50 ms, until a response head is
    /// complete (returned), the server closes it (what arrived, or nil) or `polls` polls passed
    /// (nil; a failed expectation).
    static func response(on socket: Int32, polls: Int) async throws -> String? {
        var received: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        for _ in 0..<polls {
            let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if count > 0 {
                received += buffer[0..<count]
                let text = String(decoding: received, as: UTF8.self)
                if text.contains("\r\n\r\n") { return text }
                continue
            }
            if count == 0 { return received.isEmpty ? nil : String(decoding: received, as: UTF8.self) }
            if errno != EAGAIN && errno != EWOULDBLOCK { return received.isEmpty ? nil : String(decoding: received, as: UTF8.self) }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("neither an answer nor a close in \(polls) polls")
        return nil
    }
}
