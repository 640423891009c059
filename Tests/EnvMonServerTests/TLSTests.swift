import AsyncHTTPClient
import EmbeddedPostgres
import EnvMonServer
import EnvMonTestSupport
import Foundation
import NIOCore
import NIOHTTP1
import NIOSSL
import ServiceLifecycle
import Testing

@Suite("HTTPS", .timeLimit(.minutes(10)), .temporaryDatabases)
struct TLSTests {
    static func client(trusting caPath: String) throws -> HTTPClient {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(caPath))
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    /// Runs the application over HTTPS with certificates made for the test, waits until
    /// `/readyz` answers 200 to a client trusting their CA, runs `body` with the port, the
    /// certificates and that client, then shuts the server down gracefully.
    static func withHTTPSServer(
        idleTimeout: Duration? = nil,
        _ body: @escaping @Sendable (Int, TestCertificates, HTTPClient) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try TestCertificates(in: directory)
        let testDB = try await TestDatabase.make()
        var config = ServerConfiguration.test
        config.workers = 0
        if let idleTimeout { config.idleTimeout = idleTimeout }
        config.port = try ServiceGroupTests.freePort()
        config.tls = TLSFiles(certificate: URL(fileURLWithPath: certificates.certificatePath),
                              key: URL(fileURLWithPath: certificates.keyPath))
        let log = LogRing()
        let app = try Harness.application(testDB, config: config, log: log)
        let group = ServiceGroup(configuration: .init(services: [app], logger: Harness.logger))
        let port = config.port
        let trusted = try Self.client(trusting: certificates.caPath)
        try await Harness.bounded("the HTTPS server", log: log) {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                var response: HTTPClientResponse?
                for _ in 0..<3000 where response?.status.code != 200 {
                    response = try? await trusted.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/readyz"), timeout: .seconds(10))
                    if response?.status.code != 200 { try await Task.sleep(for: .milliseconds(100)) }
                }
                #expect(response?.status.code == 200)
                #expect(response?.headers.first(name: "Strict-Transport-Security") == "max-age=31536000")
                #expect(response?.headers.first(name: "X-Content-Type-Options") == "nosniff")
                do {
                    try await body(port, certificates, trusted)
                } catch {
                    await group.triggerGracefulShutdown()
                    throw error
                }
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
        try await trusted.shutdown()
    }

    @Test("--tls-cert/--tls-key serve HTTPS with HSTS; plain HTTP and an untrusted CA get nothing")
    func https() async throws {
        try await Self.withHTTPSServer { port, certificates, _ in
            // TLS 1.1 and older are refused.
            await #expect(throws: (any Error).self) {
                var old = TLSConfiguration.makeClientConfiguration()
                old.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificates.caPath))
                old.maximumTLSVersion = .tlsv11
                let legacy = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: old))
                defer { _ = legacy.shutdown() }
                _ = try await legacy.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
            }
            let stranger = try Self.client(trusting: certificates.strangerCAPath)
            await #expect(throws: (any Error).self) {
                _ = try await stranger.execute(HTTPClientRequest(url: "https://127.0.0.1:\(port)/healthz"), timeout: .seconds(10))
            }
            try await stranger.shutdown()
            // Plain HTTP on the TLS port is not answered as HTTP (a raw socket: no client library's
            // own timeouts in the way).
            let plain = try SlowClientTests.connect(port: port, sending: "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            defer { close(plain) }
            let answer = try await SlowClientTests.firstBytes(plain)
            #expect(!String(decoding: answer, as: UTF8.self).hasPrefix("HTTP/1.1 200"))
        }
    }

    @Test("a client that connects to the HTTPS port and never says hello is closed, and does not hold up shutdown")
    func silentTLSClients() async throws {
        try await Self.withHTTPSServer(idleTimeout: .seconds(1)) { port, _, _ in
            // Five clients that connect and send nothing, one that sends half a ClientHello.
            var silent = try (0..<5).map { _ in try SlowClientTests.connect(port: port, sending: "") }
            silent.append(try SlowClientTests.connect(port: port, sending: "\u{16}\u{03}\u{01}"))
            defer { silent.forEach { close($0) } }
            for fd in silent {
                // Closed by the server: end of file (or a reset), nothing sent.
                #expect(try await SlowClientTests.firstBytes(fd).isEmpty)
            }
        }
    }

    @Test("a missing certificate or a key of another certificate is a one-line error at start")
    func badFiles() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try TestCertificates(in: directory)
        let db = try await TestDatabase.make()
        let envmon = try CLIProcessTests.executable()
        let url = CLIProcessTests.url(db.address)
        let missing = try await Shell.run(envmon, ["serve", "--port", "\(try ServiceGroupTests.freePort())", "--database-url", url,
                                             "--tls-cert", directory.appendingPathComponent("nope.pem").path,
                                             "--tls-key", certificates.keyPath])
        #expect(missing.status == 1)
        #expect(missing.stderr.contains("cannot read the TLS certificate"), "\(missing.stderr)")
        let mismatched = try await Shell.run(envmon, ["serve", "--port", "\(try ServiceGroupTests.freePort())", "--database-url", url,
                                                "--tls-cert", certificates.certificatePath,
                                                "--tls-key", directory.appendingPathComponent("ca.key").path])
        #expect(mismatched.status == 1)
        #expect(mismatched.stderr.contains("does not fit the certificate"), "\(mismatched.stderr)")
        let half = try await Shell.run(envmon, ["serve", "--database-url", url, "--tls-cert", certificates.certificatePath])
        #expect(half.status == 2)
        #expect(half.stderr.contains("give both --tls-cert and --tls-key"), "\(half.stderr)")
    }
}
