import EmbeddedPostgres
public import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Testing

/// A test server on loopback: a Python harness from Fixtures/ started with Debian's
/// /usr/bin/python3 (where python3-aiosmtpd is installed), stopped by `stop()`.
public final class LoopbackServer: @unchecked Sendable {
    public let port: Int
    /// Where the harness writes one JSON file per message or request it received.
    public let inbox: URL
    private let child: Shell.Child

    /// The Python harnesses (aiosmtpd SMTP, HTTP) next to this file.
    public static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    private init(port: Int, inbox: URL, child: Shell.Child) {
        self.port = port
        self.inbox = inbox
        self.child = child
    }

    /// Starts `script` with `arguments` plus `--outdir` and waits for the port it prints; with
    /// `port`, the harness's own port choice (`free_port`) is replaced so it listens there
    /// (a test can fail against a closed port, then bring the server up on that same port).
    /// Started with `Shell.spawn` (posix_spawn, output to files), not Foundation's Process, whose
    /// waits can miss a child's exit off the main thread; nothing here blocks a pipe either.
    public static func start(_ script: String, _ arguments: [String] = [], on port: Int? = nil, in directory: URL) async throws -> LoopbackServer {
        let inbox = directory.appendingPathComponent("inbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let argv = [fixtures.appendingPathComponent(script).path, "--outdir", inbox.path] + arguments
        let programArguments: [String]
        if let port {
            // Loads the harness as a module and pins the port before its main() runs.
            let code = """
                import importlib.util, sys
                spec = importlib.util.spec_from_file_location("harness", sys.argv.pop(1))
                harness = importlib.util.module_from_spec(spec)
                spec.loader.exec_module(harness)
                harness.free_port = lambda: \(port)
                harness.main()
                """
            programArguments = ["-c", code] + argv
        } else {
            programArguments = argv
        }
        let child = try Shell.spawn("/usr/bin/python3", programArguments, environment: ["PYTHONUNBUFFERED": "1"])
        // The harness prints its port as its first line; up to five minutes on a loaded machine.
        for _ in 0..<3000 {
            let output = child.outputSoFar()
            if let end = output.firstIndex(of: "\n") {
                guard let port = Int(output[..<end].trimmingCharacters(in: .whitespaces)) else { break }
                return LoopbackServer(port: port, inbox: inbox, child: child)
            }
            if let exited = try child.poll() {
                throw HarnessFailure(message: "\(script) exited with \(exited.status) before it listened: \(exited.stderr.suffix(2000))")
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        child.signal(SIGKILL)
        let result = try await child.exit()
        throw HarnessFailure(message: "\(script) did not print its port: \(result.stdout.prefix(200)) \(result.stderr.suffix(2000))")
    }

    /// Ends the harness: SIGTERM, then SIGKILL if it is still there after five seconds, and
    /// reaps it.
    public func stop() {
        child.signal(SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            do {
                if try child.poll() != nil { return }  // exited and reaped
            } catch {
                return  // not our child any more
            }
            usleep(20_000)
        }
        child.signal(SIGKILL)
        _ = try? child.wait()
    }

    /// The JSON records written so far, oldest first.
    public func received() throws -> [[String: Any]] {
        let files = try FileManager.default.contentsOfDirectory(at: inbox, includingPropertiesForKeys: [.creationDateKey])
            .filter { $0.pathExtension == "json" }
            .sorted { ($0.creationDate ?? .distantPast) < ($1.creationDate ?? .distantPast) }
        return try files.map { try #require(JSONSerialization.jsonObject(with: Data(contentsOf: $0)) as? [String: Any]) }
    }
}

public struct HarnessFailure: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }

    public init(message: String) {
        self.message = message
    }
}

extension URL {
    fileprivate var creationDate: Date? { (try? resourceValues(forKeys: [.creationDateKey]))?.creationDate }
}

/// A fresh temporary directory, removed by `remove()`.
public struct ScratchDirectory {
    public let url: URL

    public init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-notify-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    public func remove() { try? FileManager.default.removeItem(at: url) }
}

/// A private certificate authority and a server certificate for 127.0.0.1 and localhost,
/// made with the openssl command line for this test run only.
public struct TestCertificates: Sendable {
    public let caPath: String
    public let certificatePath: String
    public let keyPath: String
    /// A second CA that signed nothing: trusting it must make verification fail.
    public let strangerCAPath: String

    public init(in directory: URL) throws {
        func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        for name in ["ca", "stranger"] {
            try Self.openssl(["req", "-x509"] + ec + [
                "-keyout", path("\(name).key"), "-out", path("\(name).pem"), "-days", "2", "-subj", "/CN=envmon test \(name)",
                "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ])
        }
        try Self.openssl(["req"] + ec + ["-keyout", path("server.key"), "-out", path("server.csr"), "-subj", "/CN=localhost"])
        try "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
            .write(toFile: path("server.ext"), atomically: true, encoding: .utf8)
        try Self.openssl([
            "x509", "-req", "-in", path("server.csr"), "-CA", path("ca.pem"), "-CAkey", path("ca.key"), "-CAcreateserial",
            "-out", path("server.pem"), "-days", "2", "-extfile", path("server.ext"),
        ])
        caPath = path("ca.pem")
        certificatePath = path("server.pem")
        keyPath = path("server.key")
        strangerCAPath = path("stranger.pem")
    }

    private static func openssl(_ arguments: [String]) throws {
        let result = try Shell.run("/usr/bin/openssl", arguments)
        guard result.status == 0 else {
            throw HarnessFailure(message: "openssl \(arguments.first ?? "") failed: \(result.stderr)")
        }
    }
}

/// A port on 127.0.0.1 where nothing listens (bound, read and released by Python).
public func closedLoopbackPort() throws -> Int {
    let result = try Shell.run(
        "/usr/bin/python3", ["-c", "import socket; s = socket.socket(); s.bind(('127.0.0.1', 0)); print(s.getsockname()[1])"])
    return try #require(Int(result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)))
}
