import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
import EnvMonTestSupport
import Foundation
import Testing

/// The console in a real headless Chromium against a live server: a clerk signs in, uploads a
/// file through the form (progress bar, then the live status until it is loaded), opens the
/// upload and reads its rejected row; the pages' scripts run under the console's CSP.
/// With `ENVMON_SCREENSHOTS=DIR` the pages are saved as PNGs for a person to look at.
@Suite("The console in a browser", .timeLimit(.minutes(10)), .temporaryDatabases)
struct ConsoleBrowserTests {
    @Test("a clerk signs in, uploads a file with progress and live status, and opens its rejected rows")
    func uploadThroughTheForm() async throws {
        try #require(Browser.available, "chromium and chromium-driver are needed (.ci/run installs them)")
        let db = try await TestDatabase.make()
        try #require(try await ConsoleSessionTests.addUser(CLIProcessTests.url(db.address), "王芳", role: "uploader").status == 0)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("污水处理月报-\(UUID().uuidString.prefix(8)).csv")
        try Data("""
            污水处理厂编码,污水处理厂名称,所属街道,月份,污水排放量,污水处理量
            WWTP01,城北污水处理厂,城关街道,2026-03,1000000,960000
            WWTP02,南湖污水处理厂,南湖街道,2026-03,500000,450000
            WWTP03,西园污水处理厂,西园街道,2026-13,300000,290000
            """.utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        var config = ServerConfiguration.test
        config.workers = 1
        _ = try await ServiceGroupTests.withLiveServer(db, config: config) { base in
            try await Browser.with { browser in
                try await browser.open("\(base)/login")
                try await browser.type("#username", "王芳")
                try await browser.type("#password", ConsoleSessionTests.password)
                try await browser.click("button[type=submit]")
                #expect(try await browser.wait(until: "return location.pathname", is: "/") == "/")
                #expect(try await browser.run("return document.documentElement.lang") == "zh-CN")
                try await browser.screenshot("overview")

                try await browser.open("\(base)/uploads")
                #expect(try await browser.run("return document.querySelector('nav a[aria-current=page]').textContent") == "数据上报")
                _ = try await browser.run("document.getElementById('kind').value = 'sewage'; return 'ok'")
                try await browser.type("#file", file.path)
                try await browser.click("#upload-form button[type=submit]")
                let state = try await browser.wait(until: "return document.getElementById('upload-status').dataset.state || ''",
                                                   is: "loaded")
                let status = try await browser.run("return document.getElementById('upload-status').textContent")
                #expect(state == "loaded", "\(status)")
                #expect(try await browser.run("return String(document.getElementById('upload-progress').value)") == "100")
                #expect(status.contains("已入库 · 入库 2 行，拒收 1 行"), "\(status)")
                // The table below lists it without a reload.
                let listed = try await browser.run("return document.querySelector('main table tbody tr').textContent")
                #expect(listed.contains("污水处理") && listed.contains("已入库"), "\(listed)")
                try await browser.screenshot("uploads")

                try await browser.click("#upload-status a")
                #expect(try await browser.wait(until: "return /^\\/uploads\\/\\d+$/.test(location.pathname) ? 'yes' : 'no'", is: "yes") == "yes")
                let table = try await browser.run("return document.querySelector('main table tbody').textContent")
                #expect(table.contains("月份"), "\(table)")
                #expect(table.contains("2026-13"), "\(table)")
                let facts = try await browser.run("return document.querySelector('dl.facts').textContent")
                #expect(facts.contains("已入库"), "\(facts)")
                try await browser.screenshot("upload")

                try await browser.open("\(base)/alerts")
                #expect(try await browser.run("return document.querySelector('main h2').textContent") == "未关闭的预警")
                try await browser.screenshot("alerts")
            }
        }
    }
}
