public import EnvMonDomain
public import Foundation

/// What one evaluation decided.
public struct EvaluationResult: Sendable, Equatable {
    /// New and changed alerts to persist (new ones have `id == nil`); unchanged ones are absent.
    public var states: [AlertState]
    /// History rows for `alert_event`, in the order they happened.
    public var transitions: [AlertTransition]
    /// Alerts that started firing or resolved in this evaluation, to route and notify.
    public var notices: [AlertNotice]

    public init(states: [AlertState] = [], transitions: [AlertTransition] = [], notices: [AlertNotice] = []) {
        self.states = states
        self.transitions = transitions
        self.notices = notices
    }
}

/// The alert state machine: candidates + open alerts + `now` in, decisions out. No I/O, no clock.
///
/// Per fingerprint (rule + identity labels):
/// - a candidate with no open alert makes a `pending` alert, or a `firing` one at once when the
///   rule's `for` is 0;
/// - `pending` becomes `firing` once the condition has held for `for` (a firing notice);
/// - with no candidate, a `pending` alert is `cancelled`, a `firing` one `resolved` once
///   `keep_firing_for` has passed since it was last seen active (a resolved notice);
/// - annotations, value and target follow the candidate in place, without a notice.
/// Evaluating again with the same inputs and the same `now` returns nothing.
///
/// ```swift
/// let result = AlertEngine.evaluate(rules: file.enabledRules, candidates: rows, previous: open, now: now)
/// // persist result.states + result.transitions, then plan result.notices
/// ```
public enum AlertEngine {
    /// One evaluation pass.
    ///
    /// - Parameters:
    ///   - rules: The rules; disabled rules and candidates of unknown rules raise nothing, and the
    ///     open alerts of a rule no longer listed resolve.
    ///   - candidates: The conditions that hold now, one per alert.
    ///   - previous: The open (pending and firing) alerts as persisted.
    ///   - now: The evaluation clock.
    public static func evaluate(
        rules: [AlertRule], candidates: [AlertCandidate], previous: [AlertState], now: Date
    ) -> EvaluationResult {
        var rulesByName: [String: AlertRule] = [:]
        for rule in rules where rule.enabled && rulesByName[rule.name] == nil { rulesByName[rule.name] = rule }
        // The first candidate of a fingerprint wins, so a caller's duplicate rows cannot flap.
        var current: [String: (AlertCandidate, AlertRule)] = [:]
        var order: [String] = []
        for candidate in candidates {
            guard let rule = rulesByName[candidate.rule] else { continue }
            let fingerprint = AlertFingerprint.of(rule: candidate.rule, identity: candidate.identity)
            if current[fingerprint] == nil {
                current[fingerprint] = (candidate, rule)
                order.append(fingerprint)
            }
        }
        var result = EvaluationResult()
        var open: Set<String> = []
        for old in previous where old.state.isOpen {
            open.insert(old.fingerprint)
            let rule = rulesByName[old.rule]
            if let (candidate, rule) = current[old.fingerprint] {
                step(old, seen: candidate, rule: rule, now: now, into: &result)
            } else {
                stepAbsent(old, rule: rule, now: now, into: &result)
            }
        }
        for fingerprint in order where !open.contains(fingerprint) {
            guard let (candidate, rule) = current[fingerprint] else { continue }
            start(candidate, rule: rule, fingerprint: fingerprint, now: now, into: &result)
        }
        return result
    }

    /// The labels and annotations an alert carries for `candidate`.
    static func describe(_ candidate: AlertCandidate, rule: AlertRule) -> (labels: [String: String], annotations: [String: String]) {
        var labels = rule.labels.merging(candidate.identity) { _, identity in identity }
        labels["alertname"] = rule.name
        labels["severity"] = rule.severity.rawValue
        labels["kind"] = rule.kind.rawValue
        if let period = candidate.annotations["period"] { labels["period"] = period }
        let variables = TemplateRenderer.variables(
            rule: rule, labels: labels, annotations: candidate.annotations,
            value: candidate.value, target: candidate.target)
        var annotations = candidate.annotations
        annotations["summary"] = TemplateRenderer.render(rule.summary, variables: variables)
        annotations["description"] = TemplateRenderer.render(rule.description, variables: variables)
        return (labels, annotations)
    }

    private static func start(
        _ candidate: AlertCandidate, rule: AlertRule, fingerprint: String, now: Date, into result: inout EvaluationResult
    ) {
        let (labels, annotations) = describe(candidate, rule: rule)
        let firesAtOnce = rule.pendingFor <= 0
        let state = AlertState(
            fingerprint: fingerprint, rule: rule.name, kind: rule.kind, severity: rule.severity,
            state: firesAtOnce ? .firing : .pending,
            labels: labels, annotations: annotations, value: candidate.value, target: candidate.target,
            activeSince: now, firedAt: firesAtOnce ? now : nil, lastSeenActive: now)
        result.states.append(state)
        result.transitions.append(AlertTransition(
            fingerprint: fingerprint, alertID: nil, rule: rule.name, from: nil, to: state.state, at: now,
            reason: firesAtOnce ? "condition true" : "condition true; firing after \(AlertDuration.text(rule.pendingFor))"))
        if firesAtOnce { result.notices.append(state.notice()) }
    }

    private static func step(
        _ old: AlertState, seen candidate: AlertCandidate, rule: AlertRule, now: Date, into result: inout EvaluationResult
    ) {
        var state = old
        let (labels, annotations) = describe(candidate, rule: rule)
        state.labels = labels
        state.annotations = annotations
        state.kind = rule.kind
        state.severity = rule.severity
        state.value = candidate.value
        state.target = candidate.target
        state.lastSeenActive = max(old.lastSeenActive, now)
        if old.state == .pending, now.timeIntervalSince(old.activeSince) >= rule.pendingFor {
            state.state = .firing
            state.firedAt = now
            result.transitions.append(AlertTransition(
                fingerprint: old.fingerprint, alertID: old.id, rule: old.rule, from: .pending, to: .firing, at: now,
                reason: "condition held for \(AlertDuration.text(now.timeIntervalSince(old.activeSince)))"))
            result.notices.append(state.notice())
        }
        if state != old { result.states.append(state) }
    }

    private static func stepAbsent(_ old: AlertState, rule: AlertRule?, now: Date, into result: inout EvaluationResult) {
        var state = old
        switch old.state {
        case .pending:
            state.state = .cancelled
            state.resolvedAt = now
            result.transitions.append(AlertTransition(
                fingerprint: old.fingerprint, alertID: old.id, rule: old.rule, from: .pending, to: .cancelled, at: now,
                reason: rule == nil ? "rule removed or disabled" : "condition cleared before firing"))
        case .firing:
            // A rule that was removed or disabled resolves its alerts at once: nothing will clear them later.
            let keep = rule?.keepFiringFor ?? 0
            guard now.timeIntervalSince(old.lastSeenActive) >= keep else { return }
            state.state = .resolved
            state.resolvedAt = now
            result.transitions.append(AlertTransition(
                fingerprint: old.fingerprint, alertID: old.id, rule: old.rule, from: .firing, to: .resolved, at: now,
                reason: rule == nil ? "rule removed or disabled"
                    : keep > 0 ? "condition clear for \(AlertDuration.text(keep))" : "condition cleared"))
            result.notices.append(state.notice())
        case .resolved, .cancelled:
            return
        }
        result.states.append(state)
    }
}

extension EvaluationResult {
    /// `previous` with this result's states laid over it (by fingerprint), new alerts appended:
    /// the list to persist and to hand to ``NotificationPlanner/plan(states:notices:routes:now:silences:)``.
    public func merged(into previous: [AlertState]) -> [AlertState] {
        var updated: [String: AlertState] = [:]
        for state in states { updated[state.fingerprint] = state }
        var merged = previous.map { updated.removeValue(forKey: $0.fingerprint) ?? $0 }
        merged += states.filter { updated[$0.fingerprint] != nil }
        return merged
    }
}
