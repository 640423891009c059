import EnvMonTestSupport
import EnvMonDomain
import EnvMonNotify
import Foundation
import Logging
import Testing

/// Webhooks POSTed to a real HTTP listener on loopback.
@Suite("Webhook delivery to a real listener", .timeLimit(.minutes(10)))
struct WebhookDeliveryTests {
    let context = DeliveryContext(
        baseURL: "https://envmon.example.gov.cn", timeZone: SampleAlerts.shanghai, webhookTimeout: .seconds(2),
        logger: Logger(label: "envmon.notify.test"))

    private func withListener(_ body: (LoopbackServer) async throws -> Void) async throws {
        let directory = try ScratchDirectory()
        defer { directory.remove() }
        let server = try await LoopbackServer.start("webhook_harness.py", in: directory.url)
        defer { server.stop() }
        try await body(server)
    }

    /// Delivers the sample group and returns the JSON body the listener received.
    private func post(_ format: WebhookFormat, to server: LoopbackServer, path: String = "/hook") async throws -> [String: Any] {
        try await Notifier().deliver(
            group: SampleAlerts.group(), channel: .webhook(url: "http://127.0.0.1:\(server.port)\(path)", format: format),
            context: context)
        let record = try #require(try server.received().last)
        #expect(record["path"] as? String == path)
        #expect((record["content_type"] as? String)?.hasPrefix("application/json") == true)
        let body = try #require((record["body"] as? String).map { Data($0.utf8) })
        return try #require(JSONSerialization.jsonObject(with: body) as? [String: Any])
    }

    @Test func genericBody() async throws {
        try await withListener { server in
            let body = try await post(.generic, to: server)
            #expect(body["status"] as? String == "firing")
            #expect(body["receiver"] as? String == "区生态环境局")
            let alerts = try #require(body["alerts"] as? [[String: Any]])
            #expect(alerts.map { $0["fingerprint"] as? String } == ["f3a9c1d2e4b5a6c7", "0b1c2d3e4f5a6b7c"])
            #expect(alerts.map { $0["status"] as? String } == ["firing", "resolved"])
            #expect((alerts.first?["annotations"] as? [String: String])?["summary"] == SampleAlerts.summary)
            #expect(alerts.first?["startsAt"] as? String == "2026-11-30T20:00:00+08:00")
            #expect(alerts.last?["endsAt"] as? String == "2026-12-01T10:30:00+08:00")
        }
    }

    @Test func wecomMarkdown() async throws {
        try await withListener { server in
            let body = try await post(.wecom, to: server, path: "/cgi-bin/webhook/send?key=abc")
            #expect(body["msgtype"] as? String == "markdown")
            let content = try #require((body["markdown"] as? [String: Any])?["content"] as? String)
            #expect(content.contains("污水集中处理率 sewage_treatment_rate"))
            #expect(content.contains(SampleAlerts.summary))
            #expect(content.contains("[查看详情](https://envmon.example.gov.cn/v1/alerts/42)"))
            #expect(content.contains("<font color=\"warning\">"))
        }
    }

    @Test func dingtalkMarkdown() async throws {
        try await withListener { server in
            let body = try await post(.dingtalk, to: server, path: "/robot/send?access_token=abc")
            #expect(body["msgtype"] as? String == "markdown")
            let markdown = try #require(body["markdown"] as? [String: Any])
            #expect((markdown["title"] as? String)?.hasPrefix("[envmon][FIRING:1] 污水集中处理率") == true)
            let text = try #require(markdown["text"] as? String)
            #expect(text.contains("**当前值**：91.2%"))
            #expect(text.contains("开始时间**：2026-11-30 20:00:00 Asia/Shanghai"))
        }
    }

    @Test(arguments: [
        ("/status/500", true), ("/status/503", true), ("/status/429", true), ("/status/404", false), ("/status/400", false),
        ("/errcode/45009", true), ("/errcode/93000", false),
    ])
    func failuresAreClassified(path: String, retryable: Bool) async throws {
        try await withListener { server in
            let error = await #expect(throws: NotificationError.self) {
                try await Notifier().deliver(
                    group: SampleAlerts.group(), channel: .webhook(url: "http://127.0.0.1:\(server.port)\(path)", format: .wecom),
                    context: context)
            }
            #expect(error?.isRetryable == retryable)
        }
    }

    @Test func slowReceiverTimesOutRetryably() async throws {
        try await withListener { server in
            let started = ContinuousClock.now
            let error = await #expect(throws: NotificationError.self) {
                try await Notifier().deliver(
                    group: SampleAlerts.group(), channel: .webhook(url: "http://127.0.0.1:\(server.port)/slow", format: .generic),
                    context: context)
            }
            #expect(error?.isRetryable == true)
            #expect(ContinuousClock.now - started < .seconds(8))
        }
    }

    @Test func listenerDownIsRetryable() async throws {
        let port = try closedLoopbackPort()
        let error = await #expect(throws: NotificationError.self) {
            try await Notifier().deliver(
                group: SampleAlerts.group(), channel: .webhook(url: "http://127.0.0.1:\(port)/hook", format: .generic), context: context)
        }
        #expect(error?.isRetryable == true)
    }

    @Test(arguments: ["ftp://example.gov.cn/hook", "not a url", "http:///nohost"])
    func badURLIsPermanent(url: String) async throws {
        let error = await #expect(throws: NotificationError.self) {
            try await Notifier().deliver(group: SampleAlerts.group(), channel: .webhook(url: url, format: .generic), context: context)
        }
        #expect(error?.isRetryable == false)
    }
}
