import EnvMonDomain
import Foundation

/// One alert as JSON consumers see it (generic webhook and log line), Alertmanager-like:
/// `status, labels, annotations, startsAt, endsAt, fingerprint, value, target` plus envmon's ids.
struct AlertRecord: Encodable {
    var alert: AlertNotice
    var facts: AlertFacts

    enum CodingKeys: String, CodingKey {
        case status, labels, annotations, startsAt, endsAt, fingerprint, value, target
        case alertId, rule, kind, severity, generatorURL, isRepeat, isEscalation
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(alert.status.rawValue, forKey: .status)
        try container.encode(alert.labels, forKey: .labels)
        try container.encode(alert.annotations, forKey: .annotations)
        try container.encode(Self.timestamp(alert.startsAt, facts.timeZone), forKey: .startsAt)
        // null, not absent, while firing: consumers test the field rather than its presence.
        try container.encode(alert.endsAt.map { Self.timestamp($0, facts.timeZone) }, forKey: .endsAt)
        try container.encode(alert.fingerprint, forKey: .fingerprint)
        // JSON has no NaN or infinity; such a value is reported as unknown.
        try container.encode(alert.value.flatMap { $0.isFinite ? $0 : nil }, forKey: .value)
        try container.encode(alert.target.flatMap { $0.isFinite ? $0 : nil }, forKey: .target)
        try container.encode(alert.alertID, forKey: .alertId)
        try container.encode(alert.rule, forKey: .rule)
        try container.encode(alert.kind, forKey: .kind)
        try container.encode(alert.severity, forKey: .severity)
        try container.encodeIfPresent(facts.link(alert), forKey: .generatorURL)
        try container.encode(alert.isRepeat, forKey: .isRepeat)
        try container.encode(alert.isEscalation, forKey: .isEscalation)
    }

    /// RFC 3339 with the feed zone's offset, e.g. `2026-11-30T20:15:00+08:00`.
    static func timestamp(_ date: Date, _ timeZone: TimeZone) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = timeZone
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}

/// The generic webhook body: `{version, status, receiver, groupLabels, alerts: [...]}`.
struct GroupRecord: Encodable {
    var group: NotificationGroup
    var facts: AlertFacts
    /// Set for the log line: when the notification was written.
    var loggedAt: Date?

    enum CodingKeys: String, CodingKey {
        case time, version, status, receiver, groupLabels, title, externalURL, alerts
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        if let loggedAt { try container.encode(AlertRecord.timestamp(loggedAt, facts.timeZone), forKey: .time) }
        try container.encode("4", forKey: .version)
        try container.encode(group.status.rawValue, forKey: .status)
        try container.encode(group.receiver, forKey: .receiver)
        try container.encode(group.groupLabels, forKey: .groupLabels)
        try container.encode(group.title(facts: facts), forKey: .title)
        if let base = facts.baseURL, !base.isEmpty { try container.encode(base, forKey: .externalURL) }
        try container.encode(group.alerts.map { AlertRecord(alert: $0, facts: facts) }, forKey: .alerts)
    }

    /// Compact JSON with sorted keys, so equal notifications give equal bytes.
    func json() throws(NotificationError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do {
            return try encoder.encode(self)
        } catch {
            throw .permanent("cannot encode the notification as JSON: \(error)")
        }
    }
}
