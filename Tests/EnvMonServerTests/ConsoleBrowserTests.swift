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
        // Two sections sampled last month: 东桥 class Ⅱ, 西闸 劣Ⅴ (DO 1.5).
        let lastMonth = ConsoleController.lastMonths(2, before: Date(), zone: FeedTimeZone.defaultZone)[0]
        let water = try await db.ingest(.water, csv: """
            section_id,section_name,river,river_level,sampled_at,ph,do,codmn,nh3n,tp
            S01,东桥,东河,2,\(lastMonth)-05 09:00,7.2,6.1,3.5,0.4,0.08
            S02,西闸,西河,2,\(lastMonth)-05 09:00,7.9,1.5,9.0,2.6,0.5
            """)
        try #require(water.status == "loaded")
        // One enterprise over its SO2 limit on a day of last month: a breach.
        let emissions = try await db.ingest(.emissions, csv: """
            企业编码,企业名称,所属街道,排放口编码,污染物,监测时间,监测值,单位,排放限值
            91310115MA1H7A2B3C,城东热电有限公司,城关街道,DA001,二氧化硫,\(lastMonth)-06 10:00,41.7,mg/m3,35
            91310115MA1H7A2B3C,城东热电有限公司,城关街道,DA001,二氧化硫,\(lastMonth)-07 10:00,20.1,mg/m3,35
            """)
        try #require(emissions.status == "loaded")
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

                // 数据完整性: the plant that just reported is on time; 水质断面: last month's classes in colour.
                try await browser.open("\(base)/sites")
                // The state of a place's row (its last cell): the section sampled last month is on
                // time; the plant whose March report ended long ago is overdue (40-day cadence).
                func rowState(_ id: String) async throws -> String {
                    try await browser.run("""
                        const row = [...document.querySelectorAll('main tbody tr')].find(r => r.cells[1].textContent === '\(id)');
                        return row ? row.cells[5].textContent : 'missing';
                        """)
                }
                #expect(try await rowState("S01") == "正常")
                #expect(try await rowState("WWTP01") == "逾期")
                try await browser.screenshot("sites")
                try await browser.open("\(base)/enterprises")
                let breach = try await browser.run("const c = document.querySelector('td.cell.missed'); return c ? c.textContent + '|' + c.title : ''")
                #expect(breach == "超标1/2|\(lastMonth)-06 SO2", "\(breach)")
                try await browser.screenshot("enterprises")
                try await browser.open("\(base)/water")
                #expect(try await browser.run("return document.querySelector('tr:has(th span) td.wq.class2') ? 'Ⅱ' : ''") == "Ⅱ")
                #expect(try await browser.run("return document.querySelectorAll('td.wq.class6').length.toString()") == "1")
                try await browser.screenshot("water")

                try await browser.open("\(base)/alerts")
                #expect(try await browser.run("return document.querySelector('main h2').textContent") == "未关闭的预警")
                try await browser.screenshot("alerts")
            }
        }
    }
}
