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
            // The page's console, read by consoleErrors().
            "goog:loggingPrefs": ["browser": "ALL"],
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

    /// Runs `script` asynchronously: it ends by calling `done(value)` (e.g. when a fetch answers).
    func runAsync(_ script: String) async throws -> String {
        let wrapped = "const done = arguments[arguments.length - 1];\n" + script
        let answer = try await call("POST", "/execute/async", ["script": wrapped, "args": [Any]()])
        switch answer["value"] {
        case let text as String: return text
        case let number as NSNumber: return number.stringValue
        default: return ""
        }
    }

    /// A cookie's value as the browser holds it (HttpOnly ones too), nil when it has none.
    func cookie(_ name: String) async throws -> String? {
        let found = try? await call("GET", "/cookie/\(name)")
        return found?["value"] as? String
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

    /// Where screenshots go: `$ENVMON_SCREENSHOTS`, else the package's `.build/screenshots`.
    static var screenshotDirectory: URL {
        if let directory = ProcessInfo.processInfo.environment["ENVMON_SCREENSHOTS"], !directory.isEmpty {
            return URL(fileURLWithPath: directory)
        }
        return URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../../.build/screenshots").standardized
    }

    /// Saves a PNG of the whole page (the window grown to the page's height, up to 6000 px) as
    /// `.build/screenshots/name.png`, for a person to review; the tests assert on the DOM.
    func screenshot(_ name: String) async throws {
        let height = Int(try await run("window.scrollTo(0, 0); return String(Math.min(6000, Math.max(900, document.documentElement.scrollHeight + window.outerHeight - window.innerHeight)))")) ?? 900
        try await call("POST", "/window/rect", ["width": 1280, "height": height])
        let answer = try await call("GET", "/screenshot")
        try await call("POST", "/window/rect", ["width": 1280, "height": 900])
        guard let text = answer["value"] as? String, let data = Data(base64Encoded: text) else {
            throw HarnessFailure(message: "chromedriver sent no screenshot for \(name)")
        }
        let directory = Self.screenshotDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try data.write(to: directory.appendingPathComponent("\(name).png"))
    }

    /// The browser console's errors since the last call (script errors, CSP violations, failed
    /// loads), from chromedriver's log of the page.
    func consoleErrors() async throws -> [String] {
        let answer = try await call("POST", "/se/log", ["type": "browser"])
        let entries = answer["value"] as? [[String: Any]] ?? []
        return entries.filter { ($0["level"] as? String) == "SEVERE" }.map { "\($0["message"] ?? "")" }
    }
}
