import EnvMonDomain
@testable import EnvMonServer
import EnvMonStore
import EnvMonTestSupport
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization
import Testing

@Suite("envmon serve's ServiceGroup", .timeLimit(.minutes(10)), .temporaryDatabases)
struct ServiceGroupTests {
    /// A port nobody listens on now, for a server the test starts next.
    ///
    /// Taken below the kernel's ephemeral range (32768–60999 here), which every outgoing
    /// connection draws its local port from: a port chosen by binding port 0 is one of those and
    /// a connection to PostgreSQL can take it before the server binds it (CI saw `Address already
    /// in use`). Ports are handed out in turn from a start that differs per process, so two tests
    /// of one run never get the same one; each is checked free by binding it.
    static func freePort() throws -> Int {
        for _ in 0..<PortAllocator.span {
            let port = PortAllocator.next()
            if canBind(port) { return port }
        }
        throw HarnessTimeout(what: "a free port in \(PortAllocator.base)..<\(PortAllocator.base + PortAllocator.span)")
    }

    static func canBind(_ port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var reuse: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
            }
        }
    }

    /// One HTTP exchange through AsyncHTTPClient; the status and the JSON object answered (empty
    /// when the body is not one). Not URLSession: on Linux, a URLSession task cancelled while it
    /// waits (a test's time limit, a task group ending) can deadlock FoundationNetworking's
    /// threads, and with them the whole test process (seen as a silent stall of the run).
    static func request(_ url: String, method: String = "GET", token: String? = nil, body: String? = nil,
                        contentType: String = "text/csv", timeout: Duration = .seconds(300)) async throws -> (Int, [String: Any]) {
        let (status, data) = try await exchange(url, method: method, token: token, body: body.map { Data($0.utf8) },
                                                contentType: contentType, timeout: timeout)
        let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] ?? [:]
        return (status, object)
    }

    /// The status and body bytes of one HTTP exchange (AsyncHTTPClient, see `request`).
    static func exchange(_ url: String, method: String = "GET", token: String? = nil, body: Data? = nil,
                         contentType: String = "text/csv", timeout: Duration = .seconds(300)) async throws -> (Int, Data) {
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: method)
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        if let body {
            request.body = .bytes(ByteBuffer(bytes: body))
            request.headers.add(name: "Content-Type", value: contentType)
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        return (Int(response.status.code), Data(bytes.readableBytesView))
    }

    /// Runs the application as `envmon serve` does (a ServiceGroup on a free port) on `testDB`,
    /// waits until `/readyz` answers 200, runs `body` with the base URL, then shuts it down
    /// gracefully and waits for every service to stop.
    static func withLiveServer(
        _ testDB: TestDatabase, config: ServerConfiguration, _ body: @escaping @Sendable (String) async throws -> Void
    ) async throws -> String {
        var config = config
        config.port = try freePort()
        let app = try Harness.application(testDB, config: config)
        let group = ServiceGroup(configuration: .init(services: [app], logger: Harness.logger))
        let base = "http://127.0.0.1:\(config.port)"
        try await Harness.bounded("the server") {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var ready = 0
                for _ in 0..<3000 where ready != 200 {
                    ready = (try? await request("\(base)/readyz").0) ?? 0
                    if ready != 200 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(ready == 200)
                do {
                    try await body(base)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        return base
    }

    @Test("pool, HTTP server and workers run together, load an upload, and stop on graceful shutdown")
    func serveAndStop() async throws {
        let testDB = try await TestDatabase.make()
        var config = ServerConfiguration.test
        config.workers = 2
        let token = try await testDB.withDatabase { db in try await TokenStore(database: db).create(name: "ops", scope: .upload).secret }
        let base = try await Self.withLiveServer(testDB, config: config) { base in
            let (status, accepted) = try await Self.request("\(base)/v1/uploads?kind=emissions", method: "POST", token: token,
                                                            body: Feed.emissions(rows: 2, seed: 77))
            #expect(status == 202)
            let id = try #require(accepted["id"] as? Int)
            var state = ""
            for _ in 0..<200 where state != "loaded" {
                state = try await Self.request("\(base)/v1/uploads/\(id)", token: token).1["status"] as? String ?? ""
                if state != "loaded" { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(state == "loaded")
        }
        #expect((try? await Self.request("\(base)/healthz").0) == nil)  // the server is gone
    }
}

@Suite("Slow clients", .timeLimit(.minutes(10)), .temporaryDatabases)
struct SlowClientTests {
    /// Connects to 127.0.0.1:`port`, sends `text`, and returns the socket.
    static func connect(port: Int, sending text: String) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Foundation.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw HarnessTimeout(what: "a connection to port \(port)")
        }
        _ = text.withCString { send(fd, $0, strlen($0), 0) }
        return fd
    }

    /// Waits (polling, up to five minutes) until the server sends something or closes `fd`;
    /// returns the first bytes it sent (empty: closed, or nothing within the wait).
    static func firstBytes(_ fd: Int32) async throws -> [UInt8] {
        var pollDescriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        let deadline = ContinuousClock.now + .seconds(300)
        while ContinuousClock.now < deadline, poll(&pollDescriptor, 1, 0) == 0 {
            try await Task.sleep(for: .milliseconds(50))
        }
        var bytes = [UInt8](repeating: 0, count: 512)
        let count = recv(fd, &bytes, bytes.count, Int32(MSG_DONTWAIT))
        return Array(bytes.prefix(max(0, count)))
    }

    @Test("a request whose headers stop half-way is closed after the idle timeout; others are served meanwhile")
    func stalledHeadersAreClosed() async throws {
        let testDB = try await TestDatabase.make()
        var config = ServerConfiguration.test
        config.workers = 0
        config.idleTimeout = .seconds(1)
        _ = try await ServiceGroupTests.withLiveServer(testDB, config: config) { base in
            let port = try #require(Int(base.split(separator: ":").last ?? ""))
            // Twenty clients that send half a header and then nothing.
            let stalled = try (0..<20).map { _ in try Self.connect(port: port, sending: "GET /healthz HTTP/1.1\r\nHost: x\r\n") }
            defer { stalled.forEach { close($0) } }
            #expect((try? await ServiceGroupTests.request("\(base)/healthz").0) == 200)
            // Each is closed by the server: a read returns end-of-file, not a response.
            for fd in stalled {
                #expect(try await Self.firstBytes(fd).isEmpty)
            }
        }
    }
}

/// Hands out ports of 20000..<32000 in turn, from a start that depends on the process id.
enum PortAllocator {
    static let base = 20_000
    static let span = 12_000
    private static let counter = Mutex(Int(getpid()) * 97 % span)

    static func next() -> Int {
        counter.withLock { value in
            value = (value + 1) % span
            return base + value
        }
    }
}
