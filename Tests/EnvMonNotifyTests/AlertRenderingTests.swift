import EnvMonTestSupport
@testable import EnvMonNotify
import EnvMonDomain
import Foundation
import Logging
import Testing

@Suite("What the bureau reads")
struct AlertRenderingTests {
    let facts = AlertFacts(timeZone: SampleAlerts.shanghai, baseURL: "https://envmon.example.gov.cn/")

    private func email(_ group: NotificationGroup = SampleAlerts.group(), baseURL: String? = "https://envmon.example.gov.cn/") throws -> EmailMessage {
        EmailMessage(
            alerts: group, from: try #require(MailAddress("envmon@example.gov.cn")), to: [try #require(MailAddress("a@example.gov.cn"))],
            baseURL: baseURL, timeZone: SampleAlerts.shanghai, date: SampleAlerts.startsAt)
    }

    @Test func subjectNamesCountMetricInChineseAndEnglish() throws {
        #expect(try email().subject == "[envmon][FIRING:1] 污水集中处理率 sewage_treatment_rate")
        let single = try email(SampleAlerts.group([SampleAlerts.sewageMissed]))
        #expect(single.subject == "[envmon][FIRING:1] 污水集中处理率 sewage_treatment_rate — \(SampleAlerts.summary)")
        var escalated = SampleAlerts.sewageMissed
        escalated.isEscalation = true
        let resolved = NotificationGroup(receiver: "r", groupLabels: [:], alerts: [SampleAlerts.codExceedance])
        #expect(try email(resolved).subject.hasPrefix("[envmon][RESOLVED:1] 重点工业企业排放稳定达标率 emissions_compliance_rate — 化学需氧量"))
        #expect(try email(SampleAlerts.group([escalated])).subject.hasPrefix("[envmon][FIRING:1][升级] "))
    }

    @Test func textBodyCarriesEveryFact() throws {
        let text = try email().textBody
        for expected in [
            "规则：sewage_target_missed · 计划目标未达成（target）", "级别：严重 critical", "指标：污水集中处理率 sewage_treatment_rate",
            "范围：district", "统计期：2026-Q3", "污水厂：WWTP-01", "当前值：91.2%", "目标值：95%", SampleAlerts.summary,
            "开始时间：2026-11-30 20:00:00 Asia/Shanghai", "详情：https://envmon.example.gov.cn/v1/alerts/42",
            "企业：E-3201", "排放口：DW001", "污染物：COD", "当前值：63.5 mg/L", "目标值：50 mg/L", "已恢复 RESOLVED",
            "恢复时间：2026-12-01 10:30:00 Asia/Shanghai", "详情：https://envmon.example.gov.cn/v1/alerts/43",
        ] {
            #expect(text.contains(expected), "text body shows \(expected)")
        }
    }

    @Test func noLinkWithoutBaseURL() throws {
        #expect(try !email(baseURL: nil).textBody.contains("/v1/alerts/"))
        #expect(try !email(baseURL: "  ").htmlBody.contains("/v1/alerts/"))
    }

    @Test func htmlIsEscaped() throws {
        let html = try email().htmlBody
        #expect(html.contains("第三季度处理量不足 &lt;请核查&gt; &amp; 上报"))
        #expect(!html.contains("<请核查>"))
        #expect(html.contains("<a href=\"https://envmon.example.gov.cn/v1/alerts/42\">"))
        #expect(AlertEmailBody.escape("<a href=\"x\" title='y'>&</a>") == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
    }

    @Test func genericWebhookBodyIsAlertmanagerLike() throws {
        let data = try WebhookBody.make(SampleAlerts.group(), format: .generic, facts: facts)
        let body = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        #expect(body["version"] as? String == "4")
        #expect(body["status"] as? String == "firing")
        #expect(body["receiver"] as? String == "区生态环境局")
        #expect(body["groupLabels"] as? [String: String] == ["metric": "sewage_treatment_rate"])
        let alerts = try #require(body["alerts"] as? [[String: Any]])
        #expect(alerts.count == 2)
        let first = try #require(alerts.first)
        #expect(first["status"] as? String == "firing")
        #expect((first["labels"] as? [String: String])?["metric"] == "sewage_treatment_rate")
        #expect((first["annotations"] as? [String: String])?["summary"] == SampleAlerts.summary)
        #expect(first["startsAt"] as? String == "2026-11-30T20:00:00+08:00")
        #expect(first["endsAt"] is NSNull)
        #expect(first["fingerprint"] as? String == "f3a9c1d2e4b5a6c7")
        #expect(first["value"] as? Double == 0.912)
        #expect(first["target"] as? Double == 0.95)
        #expect(first["generatorURL"] as? String == "https://envmon.example.gov.cn/v1/alerts/42")
        #expect(alerts.last?["endsAt"] as? String == "2026-12-01T10:30:00+08:00")
    }

    @Test func nonFiniteValuesBecomeNull() throws {
        var alert = SampleAlerts.sewageMissed
        alert.value = .nan
        alert.target = .infinity
        let data = try WebhookBody.make(SampleAlerts.group([alert]), format: .generic, facts: facts)
        let body = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let first = try #require((body["alerts"] as? [[String: Any]])?.first)
        #expect(first["value"] is NSNull)
        #expect(first["target"] is NSNull)
    }

    @Test func robotMarkdownStaysWithinTheLimit() throws {
        let many = (0..<80).map { index in
            var alert = SampleAlerts.sewageMissed
            alert.alertID = Int64(index)
            return alert
        }
        let data = try WebhookBody.make(SampleAlerts.group(many), format: .wecom, facts: facts)
        let body = try #require(JSONSerialization.jsonObject(with: data) as? [String: Any])
        let content = try #require((body["markdown"] as? [String: Any])?["content"] as? String)
        #expect(content.utf8.count <= WebhookBody.wecomLimit)
        #expect(content.contains("条告警未列出"))
        #expect(content.hasPrefix("## [envmon][FIRING:80] 污水集中处理率 sewage_treatment_rate"))
    }

    @Test func logLineIsOneJSONObject() throws {
        let lines = LockedLines()
        let log = NotificationLog { lines.append($0) }
        try log.record(SampleAlerts.group(), facts: facts, at: SampleAlerts.endsAt)
        let written = lines.all
        #expect(written.count == 1)
        let line = try #require(written.first)
        #expect(line.hasSuffix("\n"))
        #expect(line.dropLast().contains("\n") == false)
        let object = try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["receiver"] as? String == "区生态环境局")
        #expect(object["status"] as? String == "firing")
        #expect(object["time"] as? String == "2026-12-01T10:30:00+08:00")
        #expect((object["alerts"] as? [Any])?.count == 2)
    }

    @Test func logFileGetsAppended() async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let path = directory.url.appendingPathComponent("notifications.jsonl").path
        let context = DeliveryContext(log: .file(atPath: path), logger: .init(label: "test"), now: { SampleAlerts.endsAt })
        try await Notifier().deliver(group: SampleAlerts.group(), channel: .log, context: context)
        try await Notifier().deliver(group: SampleAlerts.group([SampleAlerts.codExceedance]), channel: .log, context: context)
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let second = try #require(JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["status"] as? String == "resolved")
    }

    @Test func unwritableLogIsARetryableFailure() async throws {
        let context = DeliveryContext(log: .file(atPath: "/nonexistent-dir/x/notifications.jsonl"), logger: .init(label: "test"))
        let error = await #expect(throws: NotificationError.self) {
            try await Notifier().deliver(group: SampleAlerts.group(), channel: .log, context: context)
        }
        #expect(error?.isRetryable == true)
    }
}

/// Lines collected from concurrent writers.
final class LockedLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []

    func append(_ line: String) { lock.withLock { lines.append(line) } }
    var all: [String] { lock.withLock { lines } }
}
