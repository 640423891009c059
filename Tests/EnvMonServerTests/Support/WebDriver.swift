import AsyncHTTPClient
import EmbeddedPostgres
import EnvMonTestSupport
import Foundation
import NIOCore
import NIOHTTP1

/// A real headless Chromium driven through chromedriver's W3C WebDriver protocol (plain JSON over
/// HTTP), for tests of the console as a browser shows it: scripts run, forms post, CSP applies.
struct Browser {
    let base: String
    let session: String

    /// Whether chromium and chromedriver are installed (`.ci/run` installs both).
    static var available: Bool {
        FileManager.default.isExecutableFile(atPath: "/usr/bin/chromedriver")
            && FileManager.default.isExecutableFile(atPath: "/usr/bin/chromium")
    }

    /// Starts chromedriver and a headless Chromium, runs `body`, then ends both.
    static func with<T: Sendable>(_ body: (Browser) async throws -> T) async throws -> T {
        let port = try ServiceGroupTests.freePort()
        let driver = try Shell.spawn("/usr/bin/chromedriver", ["--port=\(port)"])
        defer { driver.signal(SIGKILL) }
        let base = "http://127.0.0.1:\(port)"
        var ready = false
        var last = ""
        for _ in 0..<600 where !ready {
            do {
                let status = try await call(base, "GET", "/status")
                ready = (status["ready"] as? NSNumber)?.boolValue == true || (status["ready"] as? Bool) == true
                last = "\(status)"
            } catch {
                last = "\(error)"
            }
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        guard ready else {
            throw HarnessFailure(message: "chromedriver did not start: \(last); \(driver.outputSoFar().suffix(1000))")
        }
        let capabilities: [String: Any] = ["capabilities": ["alwaysMatch": [
            "browserName": "chrome",
            "goog:chromeOptions": ["binary": "/usr/bin/chromium",
                                   "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                                            "--window-size=1280,900", "--lang=zh-CN"],
                                   // A bureau's browser: Chinese first (headless ignores --lang for Accept-Language).
                                   "prefs": ["intl.accept_languages": "zh-CN,zh"]],
        ]]]
        let created = try await call(base, "POST", "/session", capabilities)
        guard let session = created["sessionId"] as? String else {
            throw HarnessFailure(message: "chromedriver made no session: \(created)")
        }
        let browser = Browser(base: base, session: session)
        do {
            let result = try await body(browser)
            _ = try? await call(base, "DELETE", "/session/\(session)")
            return result
        } catch {
            _ = try? await call(base, "DELETE", "/session/\(session)")
            throw error
        }
    }

    /// One WebDriver command; returns the answer's `value` (an object, or wrapped as `value`).
    @discardableResult
    static func call(_ base: String, _ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        // AsyncHTTPClient: FoundationNetworking fails on chromedriver's answers ("Failed writing header").
        var request = HTTPClientRequest(url: base + path)
        request.method = HTTPMethod(rawValue: method)
        if let body {
            request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: body)))
            request.headers.add(name: "Content-Type", value: "application/json")
        }
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(300))
        let bytes = try await response.body.collect(upTo: 64 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
        if let value = object["value"] as? [String: Any] {
            if let error = value["error"] as? String {
                throw HarnessFailure(message: "WebDriver \(path): \(error): \(value["message"] ?? "")")
            }
            return value
        }
        return ["value": object["value"] ?? NSNull(), "sessionId": object["sessionId"] ?? NSNull()]
    }

    @discardableResult
    func call(_ method: String, _ path: String, _ body: [String: Any]? = nil) async throws -> [String: Any] {
        try await Self.call(base, method, "/session/\(session)\(path)", body)
    }

    func open(_ url: String) async throws { try await call("POST", "/url", ["url": url]) }

    /// The element of a CSS selector.
    func element(_ selector: String) async throws -> String {
        let found = try await call("POST", "/element", ["using": "css selector", "value": selector])
        guard let id = found["element-6066-11e4-a52e-4f735466cecf"] as? String else {
            throw HarnessFailure(message: "no element \(selector)")
        }
        return id
    }

    func type(_ selector: String, _ text: String) async throws {
        try await call("POST", "/element/\(try await element(selector))/value", ["text": text])
    }

    func click(_ selector: String) async throws {
        try await call("POST", "/element/\(try await element(selector))/click", [:])
    }

    /// Runs `script` in the page; its return value as text ("" for null).
    func run(_ script: String) async throws -> String {
        let answer = try await call("POST", "/execute/sync", ["script": script, "args": [Any]()])
        switch answer["value"] {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return ""
        }
    }

    /// Waits (polling, up to `seconds`) until `script` returns `expected`; returns what it last returned.
    @discardableResult
    func wait(until script: String, is expected: String, seconds: Int = 300) async throws -> String {
        var last = ""
        for _ in 0..<(seconds * 5) {
            last = try await run(script)
            if last == expected { return last }
            try await Task.sleep(for: .milliseconds(200))
        }
        return last
    }

    /// Saves a PNG of the window to `$ENVMON_SCREENSHOTS/name.png` when that variable is set
    /// (for a person to look at the pages; the tests assert on the DOM).
    func screenshot(_ name: String) async throws {
        guard let directory = ProcessInfo.processInfo.environment["ENVMON_SCREENSHOTS"] else { return }
        let answer = try await call("GET", "/screenshot")
        guard let text = answer["value"] as? String, let data = Data(base64Encoded: text) else { return }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try data.write(to: URL(fileURLWithPath: directory).appendingPathComponent("\(name).png"))
    }
}
