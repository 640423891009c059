import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonAlerting

let t0 = Date(timeIntervalSince1970: 1_790_000_000)
let minute = 60.0, hour = 3_600.0, day = 86_400.0

/// A rule with the shipped-style Chinese summary.
func rule(_ name: String = "PlanTargetMissed", kind: AlertRuleKind = .target, severity: AlertSeverity = .critical,
          for pending: Double = 0, keepFiringFor: Double = 0) -> AlertRule {
    AlertRule(name: name, kind: kind, severity: severity, pendingFor: pending, keepFiringFor: keepFiringFor,
              summary: "{metric_zh}未达标：{scope} {period} 实际{value}，目标{target}，差{shortfall_pct}",
              description: "{metric}")
}

func sewageMissed(period: String = "2026-10", value: Double = 0.912) -> AlertCandidate {
    AlertCandidate(rule: "PlanTargetMissed", identity: ["metric": "sewage_treatment_rate", "scope": "all"],
                   annotations: ["period": period], value: value, target: 0.95)
}

/// Runs the engine and folds its states into the open set, as the caller's store would.
struct Store {
    var open: [AlertState] = []
    var closed: [AlertState] = []
    var nextID: Int64 = 1

    mutating func evaluate(_ rules: [AlertRule], _ candidates: [AlertCandidate], at now: Date) -> EvaluationResult {
        let result = AlertEngine.evaluate(rules: rules, candidates: candidates, previous: open, now: now)
        save(result.merged(into: open))
        return result
    }

    mutating func save(_ states: [AlertState]) {
        var open: [AlertState] = []
        for var state in states {
            if state.id == nil {
                state.id = nextID
                nextID += 1
            }
            if state.state.isOpen { open.append(state) } else { closed.append(state) }
        }
        self.open = open
    }
}

@Suite struct AlertEngineTests {
    @Test func firesAtOnceWhenForIsZeroWithChineseSummary() throws {
        var store = Store()
        let result = store.evaluate([rule()], [sewageMissed()], at: t0)
        #expect(result.transitions.map(\.to) == [.firing])
        #expect(result.transitions.first?.from == nil)
        let notice = try #require(result.notices.first)
        #expect(result.notices.count == 1)
        #expect(notice.status == .firing)
        #expect(notice.severity == .critical)
        #expect(notice.kind == .target)
        #expect(notice.labels["period"] == "2026-10")
        #expect(notice.labels["alertname"] == "PlanTargetMissed")
        #expect(notice.annotations["summary"] == "污水集中处理率未达标：all 2026-10 实际91.2%，目标95%，差3.8个百分点")
        #expect(notice.annotations["description"] == "sewage_treatment_rate")
    }

    @Test func pendingThenFiringAfterFor() {
        var store = Store()
        let rules = [rule(for: 10 * minute)]
        #expect(store.evaluate(rules, [sewageMissed()], at: t0).transitions.map(\.to) == [.pending])
        let early = store.evaluate(rules, [sewageMissed()], at: t0 + 9 * minute)
        #expect(early.notices.isEmpty)
        #expect(early.transitions.isEmpty)
        #expect(store.open.first?.state == .pending)
        let due = store.evaluate(rules, [sewageMissed()], at: t0 + 10 * minute)
        #expect(due.transitions.map { "\($0.from.map(\.rawValue) ?? "-")→\($0.to)" } == ["pending→firing"])
        #expect(due.notices.map(\.status) == [.firing])
        #expect(store.open.first?.firedAt == t0 + 10 * minute)
        #expect(store.open.first?.activeSince == t0)
    }

    @Test func pendingIsCancelledWhenTheConditionClears() {
        var store = Store()
        let rules = [rule(for: hour)]
        _ = store.evaluate(rules, [sewageMissed()], at: t0)
        let gone = store.evaluate(rules, [], at: t0 + minute)
        #expect(gone.transitions.map(\.to) == [.cancelled])
        #expect(gone.notices.isEmpty)
        #expect(store.open.isEmpty)
    }

    @Test func keepFiringForStopsFlapping() {
        var store = Store()
        let rules = [rule(keepFiringFor: 2 * hour)]
        _ = store.evaluate(rules, [sewageMissed()], at: t0)
        // The condition blinks off and on inside keep_firing_for: one alert, one notice in all.
        let off = store.evaluate(rules, [], at: t0 + hour)
        #expect(off.transitions.isEmpty && off.notices.isEmpty)
        let on = store.evaluate(rules, [sewageMissed()], at: t0 + 90 * minute)
        #expect(on.transitions.isEmpty && on.notices.isEmpty)
        #expect(store.open.count == 1)
        #expect(store.open.first?.id == 1)
        // Clear for less than 2h since last seen: still firing; at 2h: resolved.
        #expect(store.evaluate(rules, [], at: t0 + 3 * hour).notices.isEmpty)
        let resolved = store.evaluate(rules, [], at: t0 + 90 * minute + 2 * hour)
        #expect(resolved.transitions.map(\.to) == [.resolved])
        #expect(resolved.notices.map(\.status) == [.resolved])
        #expect(resolved.notices.first?.endsAt == t0 + 90 * minute + 2 * hour)
    }

    @Test func evaluatingTwiceChangesNothing() {
        var store = Store()
        let rules = [rule(for: 5 * minute), rule("Other", kind: .forecast, severity: .warning)]
        let candidates = [sewageMissed(), AlertCandidate(rule: "Other", identity: ["metric": "green_coverage_rate"])]
        _ = store.evaluate(rules, candidates, at: t0)
        let again = store.evaluate(rules, candidates, at: t0)
        #expect(again == EvaluationResult())
        _ = store.evaluate(rules, candidates, at: t0 + 5 * minute)
        let twice = store.evaluate(rules, candidates, at: t0 + 5 * minute)
        #expect(twice == EvaluationResult())
    }

    @Test func periodMovesOnWithoutANewAlert() throws {
        var store = Store()
        _ = store.evaluate([rule()], [sewageMissed(period: "2026-10")], at: t0)
        let next = store.evaluate([rule()], [sewageMissed(period: "2026-11", value: 0.9)], at: t0 + day)
        #expect(next.notices.isEmpty)
        #expect(next.transitions.isEmpty)
        let state = try #require(next.states.first)
        #expect(next.states.count == 1)
        #expect(state.id == 1)
        #expect(state.labels["period"] == "2026-11")
        #expect(state.annotations["summary"]?.contains("2026-11 实际90%") == true)
        #expect(state.value == 0.9)
        #expect(state.activeSince == t0)
    }

    @Test func refireAfterResolveIsANewAlert() throws {
        var store = Store()
        _ = store.evaluate([rule()], [sewageMissed()], at: t0)
        _ = store.evaluate([rule()], [], at: t0 + hour)
        let refired = store.evaluate([rule()], [sewageMissed()], at: t0 + 2 * hour)
        let state = try #require(refired.states.first)
        #expect(state.id == nil)
        #expect(state.activeSince == t0 + 2 * hour)
        #expect(state.fingerprint == store.closed.first?.fingerprint)
        #expect(refired.notices.map(\.status) == [.firing])
        #expect(store.open.first?.id == 2)
    }

    @Test func fingerprintIgnoresLabelOrderAndPeriodButNotIdentity() {
        let a = AlertFingerprint.of(rule: "R", identity: ["metric": "m", "scope": "all"])
        #expect(a == AlertFingerprint.of(rule: "R", identity: ["scope": "all", "metric": "m"]))
        #expect(a != AlertFingerprint.of(rule: "R", identity: ["metric": "m", "scope": "east"]))
        #expect(a != AlertFingerprint.of(rule: "S", identity: ["metric": "m", "scope": "all"]))
        #expect(AlertFingerprint.of(rule: "R", identity: ["a": "b=c"]) != AlertFingerprint.of(rule: "R", identity: ["a=b": "c"]))
        #expect(a.count == 16)
        #expect(AlertFingerprint.of(rule: "", identity: [:]) == "cbf29ce484222325", "FNV-1a 64 offset basis")
    }

    @Test func disabledOrUnknownRulesRaiseNothingAndCloseTheirAlerts() {
        var store = Store()
        _ = store.evaluate([rule()], [sewageMissed()], at: t0)
        var off = rule()
        off.enabled = false
        let result = store.evaluate([off], [sewageMissed(), AlertCandidate(rule: "Nope", identity: [:])], at: t0 + minute)
        #expect(result.transitions.map(\.to) == [.resolved])
        #expect(result.transitions.first?.reason == "rule removed or disabled")
        #expect(store.open.isEmpty)
    }

    @Test func everyKindRendersItsTemplate() throws {
        let file = try RuleFile.parse(text: try repositoryFile("alerts/rules.yaml"), fileName: "rules.yaml")
        let candidates: [AlertRuleKind: AlertCandidate] = [
            .exceedance: AlertCandidate(rule: "", identity: ["enterprise_id": "E01", "outlet_id": "DA001", "pollutant": "SO2"],
                                        annotations: ["enterprise_name": "新华热电", "days": "11-03 (52.1), 11-04 (60.0)",
                                                      "day_count": "2", "limit": "35"]),
            .dataQuality: AlertCandidate(rule: "", identity: ["uploader": "wang", "upload_id": "42"],
                                         annotations: ["file_name": "a.csv", "rejected": "7", "total": "100"], value: 0.07),
            .missingData: AlertCandidate(rule: "", identity: ["feed_kind": "water", "site_id": "S1"],
                                         annotations: ["site_name": "东河桥", "silent_for": "50d"]),
        ]
        for rule in file.rules {
            guard var candidate = candidates[rule.kind] else { continue }
            candidate.rule = rule.name
            let result = AlertEngine.evaluate(rules: [rule], candidates: [candidate], previous: [], now: t0)
            let summary = try #require(result.notices.first?.annotations["summary"])
            switch rule.kind {
            case .exceedance: #expect(summary.hasPrefix("新华热电（E01）排口DA001 SO2日均值超标2天"))
            case .dataQuality:
                #expect(summary.hasPrefix("上传文件a.csv有7%的行被拒收（wang）"))
                #expect(result.notices.first?.annotations["description"]?.contains("超过允许的5%") == true)
            case .missingData:
                #expect(result.notices.first?.annotations["description"]?.contains("应报周期45d") == true)
            default: break
            }
        }
    }
}
