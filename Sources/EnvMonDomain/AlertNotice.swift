public import Foundation

/// One alert as a notification carries it: what every channel (log, email, webhook) renders.
public struct AlertNotice: Sendable, Codable, Equatable {
    public enum Status: String, Sendable, Codable { case firing, resolved }

    /// Database id of the alert, when it has one.
    public var alertID: Int64?
    /// Stable identity: hash of the rule and its identifying labels.
    public var fingerprint: String
    public var rule: String
    public var kind: AlertRuleKind
    public var severity: AlertSeverity
    public var status: Status
    /// Identifying and descriptive labels: metric, scope, period, enterprise_id, outlet_id,
    /// pollutant, section_id, uploader, …
    public var labels: [String: String]
    /// Rendered texts: `summary`, `description` (Chinese, with the English metric id).
    public var annotations: [String: String]
    public var value: Double?
    public var target: Double?
    public var startsAt: Date
    public var endsAt: Date?
    /// Sent because the alert stayed firing and unacknowledged past an escalation interval.
    public var isEscalation: Bool
    /// Sent again because `repeat_interval` passed while still firing.
    public var isRepeat: Bool

    public init(
        alertID: Int64? = nil, fingerprint: String, rule: String, kind: AlertRuleKind, severity: AlertSeverity,
        status: Status, labels: [String: String], annotations: [String: String],
        value: Double? = nil, target: Double? = nil, startsAt: Date, endsAt: Date? = nil,
        isEscalation: Bool = false, isRepeat: Bool = false
    ) {
        self.alertID = alertID
        self.fingerprint = fingerprint
        self.rule = rule
        self.kind = kind
        self.severity = severity
        self.status = status
        self.labels = labels
        self.annotations = annotations
        self.value = value
        self.target = target
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.isEscalation = isEscalation
        self.isRepeat = isRepeat
    }
}

/// A batch of alerts for one receiver, grouped by the route's `group_by` labels.
public struct NotificationGroup: Sendable, Codable, Equatable {
    public var receiver: String
    /// The values of the `group_by` labels, e.g. ["metric": "sewage_treatment_rate"].
    public var groupLabels: [String: String]
    public var alerts: [AlertNotice]

    /// `firing` when any alert in the group fires, else `resolved`.
    public var status: AlertNotice.Status {
        alerts.contains { $0.status == .firing } ? .firing : .resolved
    }

    public init(receiver: String, groupLabels: [String: String], alerts: [AlertNotice]) {
        self.receiver = receiver
        self.groupLabels = groupLabels
        self.alerts = alerts
    }
}

/// Where a receiver delivers (routes.yaml `receivers:`).
public enum ReceiverChannel: Sendable, Codable, Equatable {
    case log
    case email(to: [String])
    case webhook(url: String, format: WebhookFormat)
}

/// Body format of a webhook.
public enum WebhookFormat: String, Sendable, Codable, CaseIterable {
    case generic, wecom, dingtalk
}

/// A named receiver with its channels.
public struct Receiver: Sendable, Codable, Equatable {
    public var name: String
    public var channels: [ReceiverChannel]

    public init(name: String, channels: [ReceiverChannel]) {
        self.name = name
        self.channels = channels
    }
}
