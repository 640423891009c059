public import Foundation

/// One "the condition holds now" row, made by the caller from the analytics views.
public struct AlertCandidate: Sendable, Equatable {
    /// The rule's name.
    public var rule: String
    /// Labels that identify the alert: metric, scope, enterprise_id, outlet_id, pollutant,
    /// section_id, feed_kind, site_id, uploader, upload_id … — never the period.
    public var identity: [String: String]
    /// Template variables that may move on without making a new alert: period, days, …
    public var annotations: [String: String]
    public var value: Double?
    public var target: Double?

    public init(rule: String, identity: [String: String], annotations: [String: String] = [:],
                value: Double? = nil, target: Double? = nil) {
        self.rule = rule
        self.identity = identity
        self.annotations = annotations
        self.value = value
        self.target = target
    }
}

/// Where an alert stands.
public enum AlertPhase: String, Sendable, Codable, CaseIterable {
    /// The condition holds, but not yet for the rule's `for`.
    case pending
    case firing
    /// The condition cleared (and stayed clear for `keep_firing_for`); closed.
    case resolved
    /// The condition cleared while still pending; closed without ever notifying.
    case cancelled

    /// Pending and firing alerts are open; the engine needs them back on the next pass.
    public var isOpen: Bool { self == .pending || self == .firing }
}

/// What the caller persists per alert.
public struct AlertState: Sendable, Equatable, Codable {
    /// Database id; nil for an alert the engine just created.
    public var id: Int64?
    /// Hash of the rule and its identity labels (``AlertFingerprint``).
    public var fingerprint: String
    public var rule: String
    public var kind: AlertRuleKind
    public var severity: AlertSeverity
    public var state: AlertPhase
    /// Identity labels plus the rule's labels, `alertname`, `severity`, `kind` and `period`.
    public var labels: [String: String]
    /// The template variables plus the rendered `summary` and `description`.
    public var annotations: [String: String]
    public var value: Double?
    public var target: Double?
    /// When the condition was first seen true for this alert.
    public var activeSince: Date
    public var firedAt: Date?
    public var resolvedAt: Date?
    /// The last evaluation that saw the condition true (for `keep_firing_for`).
    public var lastSeenActive: Date
    public var ackedBy: String?
    public var ackedAt: Date?
    public var ackNote: String?
    /// Per receiver: when it was last notified of this alert (for `repeat_interval`).
    public var lastNotifiedAt: [String: Date]
    /// Receivers already notified by escalation.
    public var escalatedTo: [String]

    public init(
        id: Int64? = nil, fingerprint: String, rule: String, kind: AlertRuleKind, severity: AlertSeverity,
        state: AlertPhase, labels: [String: String],
        annotations: [String: String], value: Double? = nil, target: Double? = nil, activeSince: Date,
        firedAt: Date? = nil, resolvedAt: Date? = nil, lastSeenActive: Date, ackedBy: String? = nil,
        ackedAt: Date? = nil, ackNote: String? = nil, lastNotifiedAt: [String: Date] = [:],
        escalatedTo: [String] = []
    ) {
        self.id = id
        self.fingerprint = fingerprint
        self.rule = rule
        self.kind = kind
        self.severity = severity
        self.state = state
        self.labels = labels
        self.annotations = annotations
        self.value = value
        self.target = target
        self.activeSince = activeSince
        self.firedAt = firedAt
        self.resolvedAt = resolvedAt
        self.lastSeenActive = lastSeenActive
        self.ackedBy = ackedBy
        self.ackedAt = ackedAt
        self.ackNote = ackNote
        self.lastNotifiedAt = lastNotifiedAt
        self.escalatedTo = escalatedTo
    }

    private enum CodingKeys: String, CodingKey {
        case id, fingerprint, rule, kind, severity, state, labels, annotations, value, target, activeSince, firedAt,
             resolvedAt, lastSeenActive, ackedBy, ackedAt, ackNote, escalatedTo
        case lastNotifiedAt = "lastNotified"
    }

    /// Whether someone acknowledged the alert (which stops repeats and escalation).
    public var isAcknowledged: Bool { ackedBy != nil }

    /// The alert as notifications carry it (firing while open, resolved when closed).
    public func notice(isRepeat: Bool = false, isEscalation: Bool = false) -> AlertNotice {
        var texts: [String: String] = [:]
        texts["summary"] = annotations["summary"]
        texts["description"] = annotations["description"]
        return AlertNotice(
            alertID: id, fingerprint: fingerprint, rule: rule, kind: kind,
            severity: severity, status: state == .resolved ? .resolved : .firing,
            labels: labels, annotations: texts, value: value, target: target, startsAt: activeSince,
            endsAt: resolvedAt, isEscalation: isEscalation, isRepeat: isRepeat
        )
    }
}

/// One step of an alert's history, for the `alert_event` table.
public struct AlertTransition: Sendable, Equatable, Codable {
    public var fingerprint: String
    /// The alert's id; nil when the alert is new in this evaluation.
    public var alertID: Int64?
    public var rule: String
    /// nil when the alert is new.
    public var from: AlertPhase?
    public var to: AlertPhase
    public var at: Date
    /// Why, in plain words, e.g. "condition held for 10m".
    public var reason: String

    public init(fingerprint: String, alertID: Int64?, rule: String, from: AlertPhase?,
                to: AlertPhase, at: Date, reason: String) {
        self.fingerprint = fingerprint
        self.alertID = alertID
        self.rule = rule
        self.from = from
        self.to = to
        self.at = at
        self.reason = reason
    }
}

/// Stable identity of an alert: FNV-1a (64 bit, hex) of the rule and its sorted identity labels.
///
/// FNV-1a is enough here: the fingerprint names an alert, it protects nothing, and it keeps this
/// target free of a crypto dependency. The bytes hashed are `rule`, then `\u{1F}name\u{1E}value`
/// per label in name order, so no two label sets share an input.
public enum AlertFingerprint {
    /// The 16-hex-digit fingerprint of `rule` with `identity`.
    public static func of(rule: String, identity: [String: String]) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        func feed(_ text: String) {
            for byte in text.utf8 {
                hash ^= UInt64(byte)
                hash = hash &* 0x0000_0100_0000_01b3
            }
        }
        feed(rule)
        for (name, value) in identity.sorted(by: { $0.key < $1.key }) {
            feed("\u{1F}\(name)\u{1E}\(value)")
        }
        let hex = String(hash, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
