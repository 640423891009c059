import EnvMonDomain
import Foundation

/// The Chinese words the bureau's staff read in every channel, next to the English ids.
enum AlertWording {
    /// Label names shown with a Chinese caption; the rest are listed under 其他标签.
    static let labelNames: [(key: String, name: String)] = [
        ("scope", "范围"), ("period", "统计期"), ("enterprise_id", "企业"), ("outlet_id", "排放口"),
        ("pollutant", "污染物"), ("section_id", "断面"), ("site_id", "站点"), ("plant_id", "污水厂"),
        ("district", "区域"), ("feed", "数据类型"), ("uploader", "上传者"),
    ]

    /// `污水集中处理率 sewage_treatment_rate`: the Chinese name from EnvMonDomain's table (or an
    /// alert's `metric_name` label, for metrics the table does not know) and the English id.
    static func metric(_ id: String, labels: [String: String] = [:]) -> String {
        guard let name = AlertMetricName.named(id)?.chinese ?? labels["metric_name"] else { return id }
        return "\(name) \(id)"
    }

    static func status(_ status: AlertNotice.Status) -> String {
        status == .firing ? "告警中 FIRING" : "已恢复 RESOLVED"
    }

    static func severity(_ severity: AlertSeverity) -> String {
        "\(severity.chinese) \(severity.rawValue)"
    }

    static func kind(_ kind: AlertRuleKind) -> String {
        "\(kind.chinese)（\(kind.rawValue)）"
    }
}

/// One line of an alert's facts, e.g. 当前值 · 91.2%.
struct AlertFact: Equatable {
    var label: String
    var value: String
}

/// Everything a reader needs to act on one alert, in the order every channel shows it.
struct AlertFacts {
    var timeZone: TimeZone
    /// `ENVMON_BASE_URL`, e.g. `https://envmon.example.gov.cn`; no link without it.
    var baseURL: String?

    func headline(_ alert: AlertNotice) -> String {
        if let summary = alert.annotations["summary"], !summary.isEmpty { return summary }
        let metric = alert.labels["metric"].map { AlertWording.metric($0, labels: alert.labels) }
        return [AlertWording.kind(alert.kind), metric].compactMap { $0 }.joined(separator: " · ")
    }

    func facts(_ alert: AlertNotice) -> [AlertFact] {
        var facts: [AlertFact] = [
            AlertFact(label: "状态", value: AlertWording.status(alert.status) + marker(alert)),
            AlertFact(label: "级别", value: AlertWording.severity(alert.severity)),
            AlertFact(label: "规则", value: "\(alert.rule) · \(AlertWording.kind(alert.kind))"),
        ]
        if let metric = alert.labels["metric"] {
            facts.append(AlertFact(label: "指标", value: AlertWording.metric(metric, labels: alert.labels)))
        }
        for (key, name) in AlertWording.labelNames {
            if let value = alert.labels[key], !value.isEmpty { facts.append(AlertFact(label: name, value: value)) }
        }
        let shown = Set(AlertWording.labelNames.map(\.key) + ["metric", "metric_name"])
        let others = alert.labels.filter { !shown.contains($0.key) }.sorted { $0.key < $1.key }
        if !others.isEmpty {
            facts.append(AlertFact(label: "其他标签", value: others.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")))
        }
        if let value = alert.value { facts.append(AlertFact(label: "当前值", value: number(value, for: alert))) }
        if let target = alert.target { facts.append(AlertFact(label: "目标值", value: number(target, for: alert))) }
        if let summary = alert.annotations["summary"], !summary.isEmpty { facts.append(AlertFact(label: "摘要", value: summary)) }
        if let description = alert.annotations["description"], !description.isEmpty {
            facts.append(AlertFact(label: "说明", value: description))
        }
        facts.append(AlertFact(label: "开始时间", value: time(alert.startsAt)))
        if let endsAt = alert.endsAt, alert.status == .resolved {
            facts.append(AlertFact(label: "恢复时间", value: time(endsAt)))
        }
        facts.append(AlertFact(label: "指纹", value: alert.fingerprint))
        if let link = link(alert) { facts.append(AlertFact(label: "详情", value: link)) }
        return facts
    }

    /// `ENVMON_BASE_URL/v1/alerts/<id>`, when both are known.
    func link(_ alert: AlertNotice) -> String? {
        guard let id = alert.alertID, var base = baseURL?.trimmingSpaces, !base.isEmpty else { return nil }
        while base.hasSuffix("/") { base.removeLast() }
        return "\(base)/v1/alerts/\(id)"
    }

    /// `2026-11-30 20:15:00 Asia/Shanghai`: local time, with the zone named so nobody guesses.
    func time(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return "\(formatter.string(from: date)) \(timeZone.identifier)"
    }

    /// Plan metrics read as their table says (0.912 → 91.2%, 12.5 → 12.5 m²); other values
    /// (daily means of an exceedance, hours of silence) as plain numbers with the `unit` label.
    func number(_ value: Double, for alert: AlertNotice) -> String {
        guard value.isFinite else { return "—" }
        if alert.kind == .target || alert.kind == .forecast, let metric = alert.labels["metric"].flatMap(AlertMetricName.named) {
            return metric.format(value)
        }
        if alert.kind == .dataQuality { return AlertMetricName.decimal(value * 100, places: 1) + "%" }
        return AlertMetricName.decimal(value, places: 3) + (alert.labels["unit"].map { " \($0)" } ?? "")
    }

    private func marker(_ alert: AlertNotice) -> String {
        if alert.isEscalation { return "（升级通知）" }
        if alert.isRepeat { return "（重复提醒）" }
        return ""
    }
}

extension NotificationGroup {
    /// `[envmon][FIRING:2] 污水集中处理率 sewage_treatment_rate 全区` — what every channel's title says.
    func title(facts: AlertFacts) -> String {
        let firing = alerts.filter { $0.status == .firing }.count
        let counter = status == .firing ? "FIRING:\(firing)" : "RESOLVED:\(alerts.count)"
        var parts = ["[envmon][\(counter)]"]
        if alerts.contains(where: \.isEscalation) { parts[0] += "[升级]" }
        let metrics = Set(alerts.compactMap { $0.labels["metric"] })
        let metric = groupLabels["metric"] ?? (metrics.count == 1 ? metrics.first : nil)
        if let metric {
            parts.append(AlertWording.metric(metric, labels: alerts.first?.labels ?? [:]))
        }
        parts += groupLabels.filter { $0.key != "metric" }.sorted { $0.key < $1.key }.map(\.value)
        if alerts.count == 1, let only = alerts.first {
            parts.append("— " + facts.headline(only))
        } else if metric == nil {
            parts.append("— \(alerts.count) 条告警")
        }
        return parts.joined(separator: " ")
    }
}
