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
    private let process: Process

    /// The Python harnesses (aiosmtpd SMTP, HTTP) next to this file.
    public static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    private init(port: Int, inbox: URL, process: Process) {
        self.port = port
        self.inbox = inbox
        self.process = process
    }

    /// Starts `script` with `arguments` plus `--outdir` and waits for the port it prints; with
    /// `port`, the harness's own port choice (`free_port`) is replaced so it listens there
    /// (a test can fail against a closed port, then bring the server up on that same port).
    public static func start(_ script: String, _ arguments: [String] = [], on port: Int? = nil, in directory: URL) async throws -> LoopbackServer {
        let inbox = directory.appendingPathComponent("inbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: inbox, withIntermediateDirectories: true)
        let argv = [fixtures.appendingPathComponent(script).path, "--outdir", inbox.path] + arguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
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
            process.arguments = ["-c", code] + argv
        } else {
            process.arguments = argv
        }
        let stdout = Pipe()
        // A file, not a pipe: a harness that logs a lot must never block on a full pipe.
        let errorLog = directory.appendingPathComponent("\(script)-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: errorLog.path, contents: nil)
        process.standardOutput = stdout
        process.standardError = try FileHandle(forWritingTo: errorLog)
        try process.run()
        let line = await readLine(stdout.fileHandleForReading)
        guard let port = line.flatMap({ Int($0) }) else {
            process.terminate()
            let message = (try? String(contentsOf: errorLog, encoding: .utf8)) ?? ""
            throw HarnessFailure(message: "\(script) did not start: \(message)")
        }
        return LoopbackServer(port: port, inbox: inbox, process: process)
    }

    /// Ends the harness: SIGTERM, then SIGKILL if it is still there after five seconds.
    public func stop() {
        guard process.isRunning else { return }
        process.terminate()
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning, Date() < deadline { usleep(20_000) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        // Never Process.waitUntilExit: off the main thread it can miss the exit and hang forever.
        let killed = Date().addingTimeInterval(5)
        while process.isRunning, Date() < killed { usleep(20_000) }
    }

    /// The JSON records written so far, oldest first.
    public func received() throws -> [[String: Any]] {
        let files = try FileManager.default.contentsOfDirectory(at: inbox, includingPropertiesForKeys: [.creationDateKey])
            .filter { $0.pathExtension == "json" }
            .sorted { ($0.creationDate ?? .distantPast) < ($1.creationDate ?? .distantPast) }
        return try files.map { try #require(JSONSerialization.jsonObject(with: Data(contentsOf: $0)) as? [String: Any]) }
    }

    private static func readLine(_ handle: FileHandle) async -> String? {
        await withCheckedContinuation { continuation in
            // The blocking read stays off Swift's cooperative threads.
            DispatchQueue.global().async {
                var bytes: [UInt8] = []
                while true {
                    let chunk = handle.availableData
                    if chunk.isEmpty { break }
                    bytes += chunk
                    if bytes.contains(UInt8(ascii: "\n")) { break }
                }
                let line = bytes.split(separator: UInt8(ascii: "\n")).first.map { String(decoding: $0, as: UTF8.self) }
                continuation.resume(returning: line?.trimmingCharacters(in: .whitespaces))
            }
        }
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
