public import Foundation

/// What happened to an alert at one moment (`envmon.alert_event.event`).
public enum AlertEventKind: String, Sendable, Codable, CaseIterable, Hashable {
    /// Transitions: the alert entered this phase.
    case pending, firing, resolved, cancelled
    /// Someone acknowledged it.
    case acknowledged
    /// A receiver was told (`notified`), or told because nobody acknowledged in time (`escalated`).
    case notified, escalated

    /// The event of entering `phase`.
    public init(entering phase: AlertPhase) {
        switch phase {
        case .pending: self = .pending
        case .firing: self = .firing
        case .resolved: self = .resolved
        case .cancelled: self = .cancelled
        }
    }
}

/// One entry of an alert's history.
public struct AlertEventRecord: Sendable, Codable, Equatable {
    public var alertID: Int64
    public var at: Date
    public var fromState: AlertPhase?
    public var toState: AlertPhase?
    public var event: AlertEventKind
    public var actor: String?
    public var details: [String: String]

    public init(alertID: Int64, at: Date, fromState: AlertPhase?, toState: AlertPhase?, event: AlertEventKind,
                actor: String? = nil, details: [String: String] = [:]) {
        self.alertID = alertID
        self.at = at
        self.fromState = fromState
        self.toState = toState
        self.event = event
        self.actor = actor
        self.details = details
    }
}

/// A silence as stored: matchers in their written form (`site_id="WS310115001"`).
public struct SilenceRecord: Sendable, Codable, Equatable {
    public var id: Int64
    public var matchers: [String]
    public var startsAt: Date
    public var endsAt: Date
    public var author: String
    public var reason: String
    public var expiredAt: Date?

    public init(id: Int64, matchers: [String], startsAt: Date, endsAt: Date, author: String, reason: String,
                expiredAt: Date?) {
        self.id = id
        self.matchers = matchers
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.author = author
        self.reason = reason
        self.expiredAt = expiredAt
    }
}
