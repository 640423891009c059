public import EnvMonDomain
public import Foundation

extension EmailMessage {
    /// The email for one notification: a Chinese subject and body listing every alert's facts,
    /// as plain text and HTML, each alert linking to its detail view when `baseURL` is set.
    ///
    /// - Parameters:
    ///   - group: the alerts of one receiver and group.
    ///   - from: `ENVMON_MAIL_FROM`; `to`: the receiver's addresses.
    ///   - baseURL: `ENVMON_BASE_URL`, or nil for no links.
    ///   - timeZone: the feed time zone (Asia/Shanghai by default) for every time shown.
    public init(
        alerts group: NotificationGroup, from: MailAddress, to: [MailAddress], baseURL: String?,
        timeZone: TimeZone, date: Date = Date()
    ) {
        let facts = AlertFacts(timeZone: timeZone, baseURL: baseURL)
        self.init(
            from: from, to: to, subject: group.title(facts: facts),
            textBody: AlertEmailBody.text(group, facts: facts), htmlBody: AlertEmailBody.html(group, facts: facts),
            date: date, timeZone: timeZone
        )
    }
}

/// The two bodies of an alert email.
enum AlertEmailBody {
    static func introduction(_ group: NotificationGroup) -> String {
        let firing = group.alerts.filter { $0.status == .firing }.count
        let resolved = group.alerts.count - firing
        var text = "envmon 告警通知：\(firing) 条告警中（FIRING），\(resolved) 条已恢复（RESOLVED）。"
        if group.alerts.contains(where: \.isEscalation) { text += "部分告警长时间未确认，已升级通知。" }
        return text
    }

    static func groupLine(_ group: NotificationGroup) -> String {
        let labels = group.groupLabels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
        return "接收人：\(group.receiver)" + (labels.isEmpty ? "" : "　分组：\(labels)")
    }

    static let footer = "此邮件由 envmon 自动发送，请勿直接回复。确认告警：envmon alerts ack ID --by 姓名"

    static func text(_ group: NotificationGroup, facts: AlertFacts) -> String {
        var lines = [introduction(group), groupLine(group), ""]
        for (index, alert) in group.alerts.enumerated() {
            lines.append("【\(index + 1)】\(facts.headline(alert))")
            lines += facts.facts(alert).map { "  \($0.label)：\($0.value)" }
            lines.append("")
        }
        lines.append("-- ")
        lines.append(footer)
        return lines.joined(separator: "\n") + "\n"
    }

    static func html(_ group: NotificationGroup, facts: AlertFacts) -> String {
        var html = """
        <!DOCTYPE html>
        <html lang="zh-CN"><head><meta charset="utf-8"><title>\(escape(group.title(facts: facts)))</title></head>
        <body style="font-family: sans-serif; color: #222;">
        <p>\(escape(introduction(group)))</p>
        <p style="color: #666;">\(escape(groupLine(group)))</p>

        """
        for (index, alert) in group.alerts.enumerated() {
            let colour = alert.status == .firing ? (alert.severity == .critical ? "#c0392b" : "#d68910") : "#1e8449"
            html += "<h3 style=\"color: \(colour);\">\(index + 1). \(escape(facts.headline(alert)))</h3>\n"
            html += "<table style=\"border-collapse: collapse;\">\n"
            for fact in facts.facts(alert) {
                let value = fact.label == "详情" && fact.value.hasPrefix("http")
                    ? "<a href=\"\(escape(fact.value))\">\(escape(fact.value))</a>" : escape(fact.value)
                html += "<tr><th style=\"text-align: left; padding: 2px 12px 2px 0; white-space: nowrap;\">\(escape(fact.label))</th>"
                html += "<td style=\"padding: 2px 0;\">\(value)</td></tr>\n"
            }
            html += "</table>\n"
        }
        html += "<p style=\"color: #888; font-size: small;\">\(escape(footer))</p>\n</body></html>\n"
        return html
    }

    /// Escapes text for HTML element content and quoted attribute values.
    static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
