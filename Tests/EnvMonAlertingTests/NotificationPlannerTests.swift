import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonAlerting

/// Plans against the store's alerts and records what was planned, as the evaluator's
/// transaction would.
extension Store {
    mutating func notify(_ router: Router, at now: Date, silences: [Silence] = [],
                         justClosed: [AlertState] = []) -> [PlannedNotification] {
        let states = open + justClosed
        let planned = NotificationPlanner.plan(states: states, routes: router, now: now, silences: silences)
        let recorded = NotificationPlanner.record(planned, in: states, at: now)
        for state in recorded {
            if let index = open.firstIndex(where: { $0.fingerprint == state.fingerprint }) { open[index] = state }
            if let index = closed.firstIndex(where: { $0.fingerprint == state.fingerprint && $0.id == state.id }) {
                closed[index] = state
            }
        }
        return planned
    }

    /// One pass: evaluate, then notify, including the alerts that just resolved.
    mutating func pass(_ rules: [AlertRule], _ candidates: [AlertCandidate], router: Router, at now: Date,
                       silences: [Silence] = []) -> [PlannedNotification] {
        let closedBefore = closed.count
        _ = evaluate(rules, candidates, at: now)
        let justClosed = Array(closed[closedBefore...])
        let planned = notify(router, at: now, silences: silences, justClosed: justClosed)
        return planned
    }

    mutating func ack(by name: String, at now: Date) {
        for index in open.indices {
            open[index].ackedBy = name
            open[index].ackedAt = now
            open[index].ackNote = "on it"
        }
    }
}

func router(_ text: String, environment: [String: String] = [:]) throws -> Router {
    Router(try RouteFile.parse(text: text, fileName: "routes.yaml", environment: environment))
}

let duty = """
    receivers:
      - {name: log, log: true}
      - {name: duty, email: {to: [duty@bureau.gov.cn]}}
      - {name: director, webhook: {url: "https://oapi.example/robot", format: dingtalk}}
    route:
      receiver: log
      group_by: [metric]
      group_wait: 30s
      repeat_interval: 4h
      routes:
        - matchers: ['severity="critical"']
          receiver: duty
          send_resolved: false
          escalate: [{after: 8h, receiver: director}]
    """

@Suite struct NotificationPlannerTests {
    func summary(_ planned: [PlannedNotification]) -> [String] {
        planned.map { notification in
            let flags = notification.group.alerts.map {
                "\($0.status)\($0.isRepeat ? "+repeat" : "")\($0.isEscalation ? "+escalation" : "")"
            }
            return "\(notification.receiver):\(flags.joined(separator: ","))"
        }
    }

    @Test func firstNotificationWaitsGroupWaitAndGroupsByLabels() throws {
        var store = Store()
        let candidates = [
            sewageMissed(),
            AlertCandidate(rule: "PlanTargetMissed", identity: ["metric": "sewage_treatment_rate", "scope": "east"],
                           value: 0.8, target: 0.95),
            AlertCandidate(rule: "PlanTargetMissed", identity: ["metric": "green_coverage_rate", "scope": "all"]),
        ]
        let planned = store.pass([rule()], candidates, router: try router(duty), at: t0)
        #expect(planned.count == 2, "one group per metric")
        #expect(planned.allSatisfy { $0.notBefore == t0 + 30 })
        let sewage = try #require(planned.first { $0.group.groupLabels == ["metric": "sewage_treatment_rate"] })
        #expect(sewage.receiver == "duty")
        #expect(sewage.group.alerts.count == 2)
        #expect(sewage.channels == [.email(to: ["duty@bureau.gov.cn"])])
        #expect(store.open.allSatisfy { $0.lastNotifiedAt == ["duty": t0] })
    }

    @Test func noDuplicateNotificationOnReevaluation() throws {
        var store = Store()
        let routes = try router(duty)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0).count == 1)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0).isEmpty)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + hour).isEmpty)
    }

    @Test func repeatIntervalRenotifiesWhileFiring() throws {
        var store = Store()
        let routes = try router(duty)
        _ = store.pass([rule()], [sewageMissed()], router: routes, at: t0)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 4 * hour - 1).isEmpty)
        let repeated = store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 4 * hour)
        #expect(summary(repeated) == ["duty:firing+repeat"])
        #expect(repeated.first?.notBefore == t0 + 4 * hour)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 5 * hour).isEmpty)
        #expect(summary(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 8 * hour + 1))
            == ["director:firing+escalation", "duty:firing+repeat"])
    }

    @Test func escalationHappensOnce() throws {
        var store = Store()
        let routes = try router(duty.replacingOccurrences(of: "repeat_interval: 4h", with: "repeat_interval: 100d"))
        _ = store.pass([rule()], [sewageMissed()], router: routes, at: t0)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 8 * hour - 1).isEmpty)
        let escalated = store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 8 * hour)
        #expect(summary(escalated) == ["director:firing+escalation"])
        #expect(store.open.first?.escalatedTo == ["director"])
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 9 * hour).isEmpty)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 30 * day).isEmpty)
    }

    @Test func acknowledgementStopsRepeatsAndEscalation() throws {
        var store = Store()
        let routes = try router(duty)
        _ = store.pass([rule()], [sewageMissed()], router: routes, at: t0)
        store.ack(by: "li.wei", at: t0 + hour)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 4 * hour).isEmpty)
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 9 * hour).isEmpty)
        #expect(store.open.first?.escalatedTo == [])
    }

    @Test func silenceSuppressesNotificationsNotEvaluation() throws {
        var store = Store()
        let routes = try router(duty)
        let silence = Silence(matchers: [try Matcher(parsing: "metric=\"sewage_treatment_rate\"")],
                              startsAt: t0 - hour, endsAt: t0 + 2 * hour, author: "zhang", reason: "plant maintenance")
        let muted = store.pass([rule()], [sewageMissed()], router: routes, at: t0, silences: [silence])
        #expect(muted.isEmpty)
        #expect(store.open.first?.state == .firing, "evaluation went on")
        #expect(store.pass([rule()], [sewageMissed()], router: routes, at: t0 + hour, silences: [silence]).isEmpty)
        // Once the silence ends, the alert nobody was told about is notified.
        let after = store.pass([rule()], [sewageMissed()], router: routes, at: t0 + 2 * hour, silences: [silence])
        #expect(summary(after) == ["duty:firing"])
        let other = Silence(matchers: [try Matcher(parsing: "metric=\"green_coverage_rate\"")],
                            startsAt: t0, endsAt: t0 + day, author: "zhang", reason: "x")
        #expect(!other.mutes(store.open[0].labels, at: t0 + hour))
    }

    @Test func resolvedGoesToWhoeverWasToldWhenSendResolved() throws {
        var store = Store()
        let routes = try router(duty)
        let rules = [rule(), rule("Forecast", kind: .forecast, severity: .warning)]
        let both = [sewageMissed(), AlertCandidate(rule: "Forecast", identity: ["metric": "green_coverage_rate"])]
        #expect(summary(store.pass(rules, both, router: routes, at: t0)).sorted() == ["duty:firing", "log:firing"])
        // duty's route says send_resolved: false; log's inherits the default true.
        let resolved = store.pass(rules, [], router: routes, at: t0 + hour)
        #expect(summary(resolved) == ["log:resolved"])
        #expect(resolved.first?.group.alerts.first?.endsAt == t0 + hour)
        #expect(store.notify(routes, at: t0 + hour, justClosed: store.closed).isEmpty, "resolved is sent once")
    }

    @Test func resolvedIsNotSentToReceiversThatNeverHeard() throws {
        var store = Store()
        let routes = try router(duty)
        let forecast = rule("Forecast", kind: .forecast, severity: .warning)
        let candidate = AlertCandidate(rule: "Forecast", identity: ["metric": "green_coverage_rate"])
        let silence = Silence(matchers: [], startsAt: t0, endsAt: t0 + day, author: "a", reason: "b")
        _ = store.pass([forecast], [candidate], router: routes, at: t0, silences: [silence])
        #expect(store.pass([forecast], [], router: routes, at: t0 + 2 * day).isEmpty)
    }

    @Test func noticesWithoutStateAreRoutedOnce() throws {
        let routes = try router(duty)
        let planned = NotificationPlanner.plan(
            states: [], notices: [notice(["severity": "critical", "metric": "m"])], routes: routes, now: t0)
        #expect(planned.map(\.receiver) == ["duty"])
        #expect(planned.first?.notBefore == t0 + 30)
    }
}
