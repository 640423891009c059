public import EnvMonDomain
public import Foundation

/// One notification to write to the outbox: a group of alerts for one receiver.
public struct PlannedNotification: Sendable, Equatable, Codable {
    public var group: NotificationGroup
    /// Where the receiver delivers.
    public var channels: [ReceiverChannel]
    /// Earliest delivery time: the route's `group_wait` after firing, else the planning time.
    public var notBefore: Date

    public var receiver: String { group.receiver }

    public init(group: NotificationGroup, channels: [ReceiverChannel], notBefore: Date) {
        self.group = group
        self.channels = channels
        self.notBefore = notBefore
    }
}

/// Decides who is told what, from the alerts' persisted state, the routes and the silences.
///
/// The decisions follow from the state alone, so a restart never re-notifies:
/// - a firing alert not yet notified to a receiver is notified (after `group_wait`);
/// - a firing, unacknowledged alert is notified again once `repeat_interval` has passed since
///   that receiver was last told;
/// - a firing, unacknowledged alert older than an `escalate.after` also goes, once, to the
///   escalation receiver;
/// - a resolved alert is notified to every receiver that was told it fired, when the route
///   says `send_resolved`;
/// - an active silence that matches the alert's labels suppresses all of it.
/// After writing the plan, apply ``record(_:in:at:)`` to the states and persist them in the
/// same transaction.
public enum NotificationPlanner {
    /// The notifications due at `now`, grouped per receiver and `group_by` labels.
    ///
    /// - Parameters:
    ///   - states: The alerts as persisted after evaluation: open ones and those that just
    ///     resolved (``EvaluationResult/merged(into:)`` gives this list).
    ///   - notices: Notices of alerts that have no state here (they are notified once).
    ///   - routes: The router of the route file.
    ///   - now: The planning time.
    ///   - silences: Silences; only those active at `now` count.
    public static func plan(
        states: [AlertState], notices: [AlertNotice] = [], routes: Router, now: Date, silences: [Silence] = []
    ) -> [PlannedNotification] {
        var due: [Due] = []
        let known = Set(states.map(\.fingerprint))
        for state in states where !silences.contains(where: { $0.mutes(state.labels, at: now) }) {
            due += decide(state, routes: routes, now: now)
        }
        for notice in notices where !known.contains(notice.fingerprint)
            && !silences.contains(where: { $0.mutes(notice.labels, at: now) }) {
            var seen: Set<String> = []
            for settings in routes.matchingRoutes(notice.labels)
            where routes.isActive(settings.receiver) && seen.insert(settings.receiver).inserted {
                if notice.status == .resolved && !settings.sendResolved { continue }
                let wait = notice.status == .firing ? settings.groupWait : 0
                due.append(Due(receiver: settings.receiver, groupBy: settings.groupBy, notice: notice,
                               notBefore: now.addingTimeInterval(wait)))
            }
        }
        return group(due, routes: routes)
    }

    /// `states` after delivering `planned`: per receiver `lastNotifiedAt = now`, escalation
    /// receivers added to `escalatedTo`. Returns only the states that changed.
    public static func record(_ planned: [PlannedNotification], in states: [AlertState], at now: Date) -> [AlertState] {
        var byFingerprint: [String: AlertState] = [:]
        for state in states { byFingerprint[state.fingerprint] = state }
        var changed: [String] = []
        for notification in planned {
            for notice in notification.group.alerts {
                guard var state = byFingerprint[notice.fingerprint] else { continue }
                state.lastNotifiedAt[notification.receiver] = now
                if notice.isEscalation && !state.escalatedTo.contains(notification.receiver) {
                    state.escalatedTo.append(notification.receiver)
                }
                if state != byFingerprint[notice.fingerprint] {
                    byFingerprint[notice.fingerprint] = state
                    if !changed.contains(notice.fingerprint) { changed.append(notice.fingerprint) }
                }
            }
        }
        return changed.compactMap { byFingerprint[$0] }
    }

    /// One alert due to one receiver.
    private struct Due {
        var receiver: String
        var groupBy: [String]
        var notice: AlertNotice
        var notBefore: Date
    }

    private static func decide(_ state: AlertState, routes: Router, now: Date) -> [Due] {
        var due: [Due] = []
        let matched = routes.matchingRoutes(state.labels)
        var seen: Set<String> = []
        switch state.state {
        case .firing:
            let firedAt = state.firedAt ?? state.activeSince
            for settings in matched where routes.isActive(settings.receiver) && seen.insert(settings.receiver).inserted {
                if let last = state.lastNotifiedAt[settings.receiver] {
                    guard !state.isAcknowledged, now.timeIntervalSince(last) >= settings.repeatInterval else { continue }
                    due.append(Due(receiver: settings.receiver, groupBy: settings.groupBy,
                                   notice: state.notice(isRepeat: true), notBefore: now))
                } else {
                    let notBefore = max(now, firedAt.addingTimeInterval(settings.groupWait))
                    due.append(Due(receiver: settings.receiver, groupBy: settings.groupBy,
                                   notice: state.notice(), notBefore: notBefore))
                }
            }
            guard !state.isAcknowledged else { break }
            var escalated = Set(state.escalatedTo)
            for settings in matched {
                for step in settings.escalate
                where routes.isActive(step.receiver) && now.timeIntervalSince(firedAt) >= step.after
                    && escalated.insert(step.receiver).inserted {
                    due.append(Due(receiver: step.receiver, groupBy: settings.groupBy,
                                   notice: state.notice(isEscalation: true), notBefore: now))
                }
            }
        case .resolved:
            guard let resolvedAt = state.resolvedAt else { break }
            var told: [(String, RouteSettings)] = matched.map { ($0.receiver, $0) }
            for settings in matched {
                for step in settings.escalate where state.escalatedTo.contains(step.receiver) {
                    told.append((step.receiver, settings))
                }
            }
            for (receiver, settings) in told where settings.sendResolved && routes.isActive(receiver)
                && seen.insert(receiver).inserted {
                guard let last = state.lastNotifiedAt[receiver], last < resolvedAt else { continue }
                due.append(Due(receiver: receiver, groupBy: settings.groupBy, notice: state.notice(), notBefore: now))
            }
        case .pending, .cancelled:
            break
        }
        return due
    }

    private static func group(_ due: [Due], routes: Router) -> [PlannedNotification] {
        struct Key: Hashable {
            var receiver: String
            var labels: [String: String]
            var escalation: Bool
        }
        var groups: [Key: (alerts: [AlertNotice], notBefore: Date)] = [:]
        var order: [Key] = []
        for item in due {
            var labels: [String: String] = [:]
            for name in item.groupBy { labels[name] = item.notice.labels[name] ?? "" }
            // Escalations go in groups of their own so that channels can say so in the subject.
            let key = Key(receiver: item.receiver, labels: labels, escalation: item.notice.isEscalation)
            if var existing = groups[key] {
                existing.alerts.append(item.notice)
                existing.notBefore = max(existing.notBefore, item.notBefore)
                groups[key] = existing
            } else {
                groups[key] = ([item.notice], item.notBefore)
                order.append(key)
            }
        }
        return order.compactMap { key in
            guard let entry = groups[key] else { return nil }
            let alerts = entry.alerts.sorted { ($0.startsAt, $0.fingerprint) < ($1.startsAt, $1.fingerprint) }
            return PlannedNotification(
                group: NotificationGroup(receiver: key.receiver, groupLabels: key.labels, alerts: alerts),
                channels: routes.file.receivers[key.receiver]?.channels ?? [], notBefore: entry.notBefore)
        }
        .sorted { lhs, rhs in
            if lhs.receiver != rhs.receiver { return lhs.receiver < rhs.receiver }
            return lhs.group.groupLabels.sorted(by: { $0.key < $1.key }).description
                < rhs.group.groupLabels.sorted(by: { $0.key < $1.key }).description
        }
    }
}
