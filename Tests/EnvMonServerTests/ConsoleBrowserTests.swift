import AsyncHTTPClient
import EmbeddedPostgres
import EnvMonDomain
@testable import EnvMonServer
import EnvMonTestSupport
import Foundation
import NIOCore
import NIOHTTP1
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
                #expect(try await browser.consoleErrors().isEmpty, "overview")
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
                // Its time as the server shows it after a reload (the feed time zone, not the browser's).
                let scripted = try await browser.run("return document.querySelector('main table tbody tr').cells[4].textContent")
                #expect(try await browser.consoleErrors().isEmpty, "uploads")
                try await browser.screenshot("uploads")

                try await browser.click("#upload-status a")
                #expect(try await browser.wait(until: "return /^\\/uploads\\/\\d+$/.test(location.pathname) ? 'yes' : 'no'", is: "yes") == "yes")
                let table = try await browser.run("return document.querySelector('main table tbody').textContent")
                #expect(table.contains("月份"), "\(table)")
                #expect(table.contains("2026-13"), "\(table)")
                let facts = try await browser.run("return document.querySelector('dl.facts').textContent")
                #expect(facts.contains("已入库"), "\(facts)")
                #expect(try await browser.consoleErrors().isEmpty, "upload")
                try await browser.screenshot("upload")
                try await browser.open("\(base)/uploads")
                #expect(try await browser.run("return document.querySelector('main table tbody tr').cells[4].textContent") == scripted)

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
                #expect(try await browser.consoleErrors().isEmpty, "sites")
                try await browser.screenshot("sites")
                try await browser.open("\(base)/enterprises")
                let breach = try await browser.run("const c = document.querySelector('td.cell.missed'); return c ? c.textContent + '|' + c.title : ''")
                #expect(breach == "超标1/2|\(lastMonth)-06 SO2", "\(breach)")
                #expect(try await browser.consoleErrors().isEmpty, "enterprises")
                try await browser.screenshot("enterprises")
                try await browser.open("\(base)/water")
                #expect(try await browser.run("return document.querySelector('tr:has(th span) td.wq.class2') ? 'Ⅱ' : ''") == "Ⅱ")
                #expect(try await browser.run("return document.querySelectorAll('td.wq.class6').length.toString()") == "1")
                #expect(try await browser.consoleErrors().isEmpty, "water")
                try await browser.screenshot("water")

                try await browser.open("\(base)/alerts")
                #expect(try await browser.run("return document.querySelector('main h2').textContent") == "未关闭的预警")
                #expect(try await browser.consoleErrors().isEmpty, "alerts")
                try await browser.screenshot("alerts")
            }
        }
    }

    @Test("on the demo district: the overview equals the views; an admin reverts an upload, acknowledges, silences and reads a timeline; a viewer gets no controls and is refused anyway; sign-out")
    func theDistrictAsALeaderAndAViewerSeeIt() async throws {
        try #require(Browser.available, "chromium and chromium-driver are needed (.ci/run installs them)")
        let db = try await TestDatabase.make()
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("envmon-district-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let now = Date()
        try DemoDistrict(today: DemoDistrict.localDate(now, zone: FeedTimeZone.defaultZone)).write(to: folder)
        let demo = try await db.withDatabase { database in
            try await TestDatabase.seedDefaultTargets(database)
            return try await Demo(database: database, configuration: try AlertConfiguration.load(directory: nil, environment: [:]))
                .run(feeds: folder, uploader: "demo", year: nil, at: now)
        }
        let url = CLIProcessTests.url(db.address)
        try #require(try await ConsoleSessionTests.addUser(url, "李主任", role: "admin").status == 0)
        try #require(try await ConsoleSessionTests.addUser(url, "赵科员", role: "viewer").status == 0)
        let waste = try #require(demo.uploads.first { $0.kind == .waste }?.id)
        let emissions = try #require(demo.uploads.first { $0.kind == .emissions }?.id)

        var config = ServerConfiguration.test
        config.workers = 1
        _ = try await ServiceGroupTests.withLiveServer(db, config: config) { base in
            try await Browser.with { browser in
                func noConsoleErrors(_ page: String) async throws {
                    let errors = try await browser.consoleErrors()
                    #expect(errors.isEmpty, "\(page): \(errors)")
                }
                func signIn(_ name: String) async throws {
                    try await browser.open("\(base)/login")
                    try await browser.type("#username", name)
                    try await browser.type("#password", ConsoleSessionTests.password)
                    try await browser.click("button[type=submit]")
                    #expect(try await browser.wait(until: "return location.pathname", is: "/") == "/")
                }
                try await signIn("李主任")

                // 总览: every row as analytics.plan_progress has it; a chart per target; the counts.
                let expected = try await db.rows("SELECT metric, value::float8::text AS value, status FROM analytics.plan_progress")
                    .map { row -> String in
                        let metric = row["metric"].flatMap { $0 } ?? ""
                        let name = AlertMetricName.named(metric)
                        let value = row["value"].flatMap { $0 }.flatMap(Double.init).map { name?.format($0) ?? "" } ?? "—"
                        return "\(name?.chinese ?? metric)|\(value)|status \(row["status"].flatMap { $0 } ?? "")"
                    }
                let shown = try await browser.run("""
                    return [...document.querySelectorAll('#plan tbody tr')].map(r =>
                        r.cells[0].textContent + '|' + r.cells[3].textContent + '|' + r.querySelector('.status').className).join('\\n')
                    """)
                #expect(shown == expected.joined(separator: "\n"))
                #expect(try await browser.run("return String(document.querySelectorAll('svg.chart').length)") == "7")
                // Sewage is at risk: its card has the projection to the due date.
                #expect(try await browser.run("""
                    const card = [...document.querySelectorAll('.chart-card')].find(c => c.querySelector('h3').textContent.includes('污水集中处理率'));
                    return card && card.querySelector('line[stroke="#7a5200"]') && card.querySelector('.status.at_risk') ? 'yes' : 'no'
                    """) == "yes")
                let firing = try await db.rows("SELECT count(*)::text AS n FROM envmon.alert WHERE state = 'firing'").first?["n"] ?? nil
                #expect(try await browser.run("return document.getElementById('open-alerts').dataset.count") == firing)
                // The sub-district that drags sewage down is red in the matrix.
                #expect(try await browser.run("""
                    const heads = [...document.querySelectorAll('#districts thead th')].map(h => h.textContent);
                    const column = heads.findIndex(h => h.includes('污水集中处理率'));
                    const row = [...document.querySelectorAll('#districts tbody tr')].find(r => r.cells[0].textContent === '张贵庄街');
                    return row ? row.cells[column].className : 'missing'
                    """) == "cell missed")
                try await noConsoleErrors("overview")
                try await browser.screenshot("district-overview")

                // 重点企业 › 津东化工: its NOx days over the limit, charted and listed.
                try await browser.open("\(base)/enterprises")
                try await browser.click("a[href='/enterprises/\(DemoDistrict.enterprises[0].id)']")
                _ = try await browser.wait(until: "return location.pathname.startsWith('/enterprises/') ? 'yes' : 'no'", is: "yes")
                let over = try await browser.run("return [...document.querySelectorAll('#exceedances tbody tr')].map(r => r.cells[2].textContent).join(',')")
                #expect(!over.isEmpty && over.split(separator: ",").allSatisfy { $0 == "NOx" }, "\(over)")
                #expect(Int(try await browser.run("return String(document.querySelectorAll('svg.chart circle[fill=\"#e5383b\"]').length)")) ?? 0 > 0)
                try await noConsoleErrors("enterprise")
                try await browser.screenshot("district-enterprise")
                try await browser.open("\(base)/enterprises")
                try await noConsoleErrors("enterprises")
                try await browser.screenshot("district-enterprises")

                // 水质断面 › 军粮城桥: 劣Ⅴ by its parameters.
                try await browser.open("\(base)/water")
                func waterRow(_ id: String) async throws -> String {
                    try await browser.run("""
                        const row = [...document.querySelectorAll('main tbody tr')].find(r => r.querySelector('th span').textContent === '\(id)');
                        return row ? row.cells[2].textContent + '|' + row.cells[3].textContent + '|' + row.querySelectorAll('td.below-goal').length : 'missing';
                        """)
                }
                // 军粮城桥 is worse than its goal every month it was sampled; 新立闸 once reported Ⅲ for Ⅳ.
                let months = try await db.rows("SELECT count(DISTINCT period)::text AS n FROM analytics.water_section_class WHERE section_id = 'DL-03' AND granularity = 'month' AND period_start >= date_trunc('month', now() - interval '11 months')")
                #expect(try await waterRow("DL-03") == "Ⅴ类及以上|—|\(months.first?["n"].flatMap { $0 } ?? "")")
                #expect(try await waterRow("DL-04") == "Ⅴ类及以上|1|0")
                try await noConsoleErrors("water")
                try await browser.screenshot("district-water")
                try await browser.click("a[href='/water/DL-03']")
                _ = try await browser.wait(until: "return location.pathname", is: "/water/DL-03")
                #expect(try await browser.run("return document.querySelector('#samples tbody tr td.wq').textContent") == "劣Ⅴ")
                try await noConsoleErrors("section")
                try await browser.screenshot("district-section")

                // 数据上报 › the emissions file: its two rejected rows and the exact bytes received.
                try await browser.open("\(base)/uploads/\(emissions)")
                #expect(try await browser.run("return String(document.querySelectorAll('main table tbody tr').length)") == "2")
                let cookie = try #require(try await browser.cookie("envmon_session"))
                var download = HTTPClientRequest(url: base + (try await browser.run("return document.getElementById('original').getAttribute('href')")))
                download.headers.add(name: "Cookie", value: "envmon_session=\(cookie)")
                let answer = try await HTTPClient.shared.execute(download, timeout: .seconds(120))
                #expect(answer.status.code == 200)
                let bytes = try await answer.body.collect(upTo: 64 << 20)
                #expect(Data(bytes.readableBytesView) == (try Data(contentsOf: folder.appendingPathComponent("emissions-district.csv"))))
                try await noConsoleErrors("upload")

                // Revert the waste report, with confirmation.
                try await browser.open("\(base)/uploads/\(waste)")
                #expect(try await browser.run("return document.querySelector('#revert .confirm').hidden ? 'hidden' : 'shown'") == "hidden")
                try await browser.click("#revert .ask")
                try await browser.screenshot("district-revert-confirm")
                try await browser.click("#revert .yes")
                _ = try await browser.wait(until: "return document.getElementById('revert') ? 'still' : 'gone'", is: "gone")
                #expect(try await browser.run("return document.querySelector('dl.facts').textContent").contains("已撤销"))
                let audit = try await db.rows("SELECT actor, summary FROM envmon.audit_event WHERE action = 'upload.revert'")
                #expect(audit.count == 1 && (audit.first?["actor"] ?? nil) == "user:李主任", "\(audit)")
                #expect(try await db.rows("SELECT 1 FROM envmon.waste_report WHERE upload_id = \(waste)").isEmpty)
                try await noConsoleErrors("revert")

                // 预警: acknowledge one, read its timeline, silence FeedMissing and end the silence.
                try await browser.open("\(base)/alerts")
                try await browser.type("form.ack input[name=note]", "已电话通知企业")
                try await browser.click("form.ack button")
                _ = try await browser.wait(until: "return document.body.textContent.includes('已电话通知企业') ? 'yes' : 'no'", is: "yes")
                try await browser.click("#open-alerts-table tbody tr a")
                _ = try await browser.wait(until: "return /^\\/alerts\\/\\d+$/.test(location.pathname) ? 'yes' : 'no'", is: "yes")
                let timeline = try await browser.run("return document.getElementById('timeline').textContent")
                #expect(timeline.contains("开始告警"), "\(timeline)")
                try await noConsoleErrors("alert")
                try await browser.screenshot("district-alert")
                try await browser.open("\(base)/alerts")
                try await browser.type("#silence-matchers", "rule=\"FeedMissing\"")
                try await browser.type("#silence-reason", "企业在线监测设备检修")
                try await browser.click("#silence-form button[type=submit]")
                _ = try await browser.wait(until: "return document.querySelector('#silences button.expire') ? 'yes' : 'no'", is: "yes")
                #expect(try await browser.run("return document.querySelector('#silences tbody').textContent").contains("FeedMissing"))
                try await noConsoleErrors("alerts")
                try await browser.screenshot("district-alerts")
                try await browser.click("#silences button.expire")
                _ = try await browser.wait(until: "return document.querySelector('#silences button.expire') ? 'yes' : 'no'", is: "no")
                let silenceAudit = try await db.rows("SELECT action FROM envmon.audit_event WHERE actor = 'user:李主任' AND action LIKE 'silence.%' ORDER BY id")
                #expect(silenceAudit.map { $0["action"] ?? nil } == ["silence.add", "silence.expire"])

                // A POST with the session cookie but without the CSRF token is refused.
                let refused = try await browser.runAsync("fetch('/v1/silences', {method: 'POST', body: '{}'}).then(r => done(String(r.status)))")
                #expect(refused == "403")
                _ = try await browser.consoleErrors()  // the refused fetch is logged as a failed load

                // Sign out: the session ends.
                try await browser.click("header form button")
                _ = try await browser.wait(until: "return location.pathname", is: "/login")
                try await browser.open("\(base)/uploads")
                #expect(try await browser.run("return location.pathname") == "/login")

                // A viewer: no upload form, no revert, no acknowledge, no silences form — and the
                // server refuses a revert even when the page's token is sent.
                try await signIn("赵科员")
                try await browser.open("\(base)/uploads")
                #expect(try await browser.run("return document.getElementById('upload-form') ? 'form' : 'none'") == "none")
                try await browser.open("\(base)/uploads/\(emissions)")
                #expect(try await browser.run("return document.getElementById('revert') ? 'revert' : 'none'") == "none")
                let refusedRevert = try await browser.runAsync("""
                    const token = document.querySelector('meta[name=csrf-token]').content;
                    fetch('/v1/uploads/\(emissions)/revert', {method: 'POST', headers: {'X-CSRF-Token': token}}).then(r => done(String(r.status)))
                    """)
                #expect(refusedRevert == "403")
                _ = try await browser.consoleErrors()
                try await browser.open("\(base)/alerts")
                #expect(try await browser.run("return (document.querySelector('form.ack') || document.getElementById('silence-form')) ? 'controls' : 'none'") == "none")
                try await noConsoleErrors("viewer alerts")
                try await browser.screenshot("district-viewer-alerts")
            }
        }
        #expect(try await db.rows("SELECT 1 FROM envmon.emission_reading LIMIT 1").count == 1)
    }
}
