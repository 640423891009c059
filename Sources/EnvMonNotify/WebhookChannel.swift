import AsyncHTTPClient
import EnvMonDomain
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Delivers a notification as an HTTP POST of JSON: Alertmanager-like (`generic`) or the
/// markdown message of a WeCom (企业微信) or DingTalk (钉钉) group robot.
struct WebhookChannel {
    var httpClient: HTTPClient
    var timeout: Duration
    var facts: AlertFacts
    var logger: Logger

    /// Answers that mean "later": overload, rate limits and server trouble.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 425 || status == 429 || (500...599).contains(status)
    }

    /// Robot error codes that mean "too many messages, try again" (WeCom 45009, DingTalk 130101).
    static let robotRateLimitCodes: Set<Int> = [45009, 130101]

    func deliver(_ group: NotificationGroup, to url: String, format: WebhookFormat) async throws(NotificationError) {
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased(), scheme == "http" || scheme == "https",
              parsed.host?.isEmpty == false
        else { throw .permanent("webhook: \(Self.redacted(url)) is not an http(s) URL") }

        let body = try WebhookBody.make(group, format: format, facts: facts)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json; charset=utf-8")
        request.headers.add(name: "User-Agent", value: "envmon")
        request.body = .bytes(ByteBuffer(bytes: body))

        let status: Int
        let answer: ByteBuffer
        do {
            let response = try await httpClient.execute(request, timeout: TimeAmount(timeout), logger: logger)
            status = Int(response.status.code)
            answer = try await response.body.collect(upTo: 64 * 1024)
        } catch let error as HTTPClientError where error == .invalidURL || error == .emptyHost {
            throw .permanent("webhook: \(Self.redacted(url)) cannot be used: \(error)")
        } catch {
            throw .retryable("webhook: POST to \(Self.redacted(url)) failed: \(String(describing: error).prefix(200))")
        }
        guard (200..<300).contains(status) else {
            throw NotificationError(
                isRetryable: Self.isRetryable(status: status),
                reason: "webhook: \(Self.redacted(url)) answered HTTP \(status): \(String(buffer: answer).prefix(200))")
        }
        // Group robots answer 200 even when they refuse the message; the refusal is in errcode.
        if format != .generic, let reply = try? JSONDecoder().decode(RobotReply.self, from: Data(answer.readableBytesView)),
           let code = reply.errcode, code != 0 {
            throw NotificationError(
                isRetryable: Self.robotRateLimitCodes.contains(code),
                reason: "webhook: \(format.rawValue) robot refused the message: errcode \(code) \(reply.errmsg ?? "")")
        }
        logger.debug("webhook delivered", metadata: ["envmon.webhook.status": "\(status)"])
    }

    /// Robot URLs carry their secret in the query (`key=`, `access_token=`): never log it.
    static func redacted(_ url: String) -> String {
        guard let question = url.firstIndex(of: "?") else { return url }
        return String(url[..<question]) + "?…"
    }

    private struct RobotReply: Decodable {
        var errcode: Int?
        var errmsg: String?
    }
}

/// The JSON bodies of the three webhook formats.
enum WebhookBody {
    /// WeCom robots refuse markdown over 4096 bytes; DingTalk allows more, but phones show little.
    static let wecomLimit = 4096
    static let dingtalkLimit = 18_000

    static func make(_ group: NotificationGroup, format: WebhookFormat, facts: AlertFacts) throws(NotificationError) -> Data {
        let object: [String: Any]
        switch format {
        case .generic:
            return try GroupRecord(group: group, facts: facts).json()
        case .wecom:
            object = ["msgtype": "markdown", "markdown": ["content": markdown(group, facts: facts, colours: true, limit: wecomLimit)]]
        case .dingtalk:
            let title = String(group.title(facts: facts).prefix(60))
            object = ["msgtype": "markdown",
                      "markdown": ["title": title, "text": markdown(group, facts: facts, colours: false, limit: dingtalkLimit)]]
        }
        do {
            return try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        } catch {
            throw .permanent("cannot encode the \(format.rawValue) message: \(error)")
        }
    }

    /// Chinese markdown: a title, then one block per alert with its facts, cut to `limit`
    /// bytes at an alert boundary with a note of how many were left out.
    static func markdown(_ group: NotificationGroup, facts: AlertFacts, colours: Bool, limit: Int) -> String {
        var text = "## \(group.title(facts: facts))\n\(AlertEmailBody.introduction(group))\n"
        for (index, alert) in group.alerts.enumerated() {
            var block = "\n### \(index + 1). "
            let headline = facts.headline(alert)
            if colours {
                let colour = alert.status == .resolved ? "info" : (alert.severity == .critical ? "warning" : "comment")
                block += "<font color=\"\(colour)\">\(headline)</font>\n"
            } else {
                block += "\(headline)\n"
            }
            for fact in facts.facts(alert) where fact.label != "指纹" {
                block += fact.label == "详情" ? "> [查看详情](\(fact.value))\n" : "> **\(fact.label)**：\(fact.value)\n"
            }
            let rest = group.alerts.count - index - 1
            let note = rest > 0 ? "\n……另有 \(rest) 条告警未列出，请用 envmon alerts list 查看。\n" : ""
            if text.utf8.count + block.utf8.count + note.utf8.count + 200 > limit {
                text += "\n……另有 \(group.alerts.count - index) 条告警未列出，请用 envmon alerts list 查看。\n"
                return truncated(text, limit: limit)
            }
            text += block
        }
        return truncated(text, limit: limit)
    }

    /// Cuts to at most `limit` UTF-8 bytes on a character boundary.
    static func truncated(_ text: String, limit: Int) -> String {
        guard text.utf8.count > limit else { return text }
        var result = ""
        var used = 0
        for character in text {
            let size = String(character).utf8.count
            if used + size > limit - 3 { break }
            result.append(character)
            used += size
        }
        return result + "…"
    }
}
