import EnvMonDomain
import Foundation
import Testing
@testable import EnvMonAlerting

/// The repository's root, found from this file's path, for reading the shipped alert files.
func repositoryFile(_ path: String) throws -> String {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    return try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
}

/// The problems of a file that must not parse, as `line:col: message` strings.
func issues(ofRules text: String) -> [AlertFileIssue] {
    do {
        _ = try RuleFile.parse(text: text, fileName: "rules.yaml")
        return []
    } catch {
        return error.issues
    }
}

@Suite struct RuleFileTests {
    @Test func shippedRulesParseCleanAndCoverEveryKind() throws {
        let file = try RuleFile.parse(text: try repositoryFile("alerts/rules.yaml"), fileName: "alerts/rules.yaml")
        #expect(Set(file.rules.map(\.kind)) == Set(AlertRuleKind.allCases))
        #expect(file.rules.allSatisfy { $0.enabled })
        #expect(file.enabledRules.count == file.rules.count)
        let target = try #require(file.rules.first { $0.kind == .target })
        #expect(target.severity == .critical)
        #expect(target.summary.contains("{metric_zh}"))
        let forecast = try #require(file.rules.first { $0.kind == .forecast })
        #expect(forecast.severity == .warning)
        let missing = try #require(file.rules.first { $0.kind == .missingData })
        #expect(missing.cadence[.emissions] == Double(24 * 3_600))
        #expect(missing.cadence[.green] == Double(400 * 86_400))
        let quality = try #require(file.rules.first { $0.kind == .dataQuality })
        #expect(quality.maxRejectedShare == 0.05)
    }

    @Test func flatListWithDefaults() throws {
        let file = try RuleFile.parse(text: """
            rules:
              - name: Late
                kind: missing_data
                severity: info
                cadence: {water: 10d}
                annotations: {summary: "{site_id} silent"}
              - name: Spikes
                kind: exceedance
                for: 1h30m
                keep_firing_for: 2h
                labels: {team: emissions}
                enabled: false
                annotations: {summary: "{pollutant}"}
              - {name: Missed, kind: target, annotations: {summary: s}}
            """, fileName: "r.yaml")
        #expect(file.rules.count == 3)
        #expect(file.rules[2].severity == .critical, "a target rule without severity is critical")
        #expect(file.rules[0].group == nil)
        #expect(file.rules[0].cadence[.water] == Double(10 * 86_400))
        #expect(file.rules[0].cadence[.emissions] == Double(24 * 3_600), "unnamed kinds keep their default cadence")
        #expect(file.rules[1].severity == .warning)
        #expect(file.rules[1].pendingFor == 5_400)
        #expect(file.rules[1].keepFiringFor == 7_200)
        #expect(file.rules[1].lookback == 31 * 86_400)
        #expect(file.rules[1].labels == ["team": "emissions"])
        #expect(file.enabledRules.map(\.name) == ["Late", "Missed"])
    }

    @Test func everyProblemIsReportedWithItsLine() {
        let found = issues(ofRules: """
            groups:
              - name: plan
                rules:
                  - name: A
                    kind: target
                    severty: critical
                    annotations: {summary: "ok"}
                  - name: B
                    kind: targett
                    for: 10 minutes
                    annotations: {summary: "{metric_zh} {valeu}"}
                  - name: A
                    kind: forecast
                    annotations: {summary: "dup"}
            """).map { "\($0.line):\($0.column): \($0.message)" }
        #expect(found.count == 5)
        #expect(found.contains { $0.hasPrefix("6:9: unknown key 'severty'") && $0.contains("did you mean 'severity'?") })
        #expect(found.contains { $0.hasPrefix("9:15: unknown kind 'targett'") && $0.contains("did you mean 'target'?") })
        #expect(found.contains { $0.hasPrefix("10:14: for: bad duration '10 minutes'") })
        #expect(found.contains { $0.hasPrefix("11:45: annotations.summary: unknown template variable '{valeu}'")
            && $0.contains("did you mean '{value}'?") })
        #expect(found.contains { $0.hasPrefix("12:9: duplicate rule name 'A' (first defined on line 4)") })
    }

    @Test func errorsPrintAsFileLineColumn() {
        do {
            _ = try RuleFile.parse(text: "rules:\n  - name: X\n    kind: forecast\n", fileName: "alerts/rules.yaml")
            Issue.record("a rule without summary parsed")
        } catch {
            #expect(error.description == "alerts/rules.yaml:2:5: rule 'X' needs annotations.summary")
        }
    }

    @Test(arguments: [
        ("rules: [\n  {name: X, kind: target, annotations: {summary: s}, lookback: 3d}\n]", 2,
         "'lookback' applies to rules of kind exceedance only"),
        ("rules:\n  - name: X\n    kind: data_quality\n    max_rejected_share: 5%\n    annotations: {summary: s}", 4,
         "max_rejected_share must be a number, not '5%'"),
        ("rules:\n  - name: X\n    kind: missing_data\n    cadence: {emisions: 1h}\n    annotations: {summary: s}", 4,
         "unknown key 'emisions' in cadence; did you mean 'emissions'?"),
        ("rules:\n  - name: X\n    kind: target\n    annotations:\n      summary: |\n        first line\n        {nope}\n", 7,
         "annotations.summary: unknown template variable '{nope}'"),
        ("rules:\n  - name: X\n    kind: target\n    enabled: maybe\n    annotations: {summary: s}", 4,
         "enabled must be true or false, not 'maybe'"),
        ("rules:\n  - name: X\n   kind: target", 3, "YAML syntax"),
        ("groups:\n  - rules: []\n", 2, "a group needs a 'name'"),
        ("alerts: []\n", 1, "unknown key 'alerts' in the rule file"),
    ] as [(String, Int, String)])
    func badFilesPointAtTheLine(text: String, line: Int, message: String) {
        let found = issues(ofRules: text)
        #expect(found.contains { $0.line == line && $0.message.hasPrefix(message) }, "\(found)")
    }

    @Test func garbageDoesNotCrash() {
        for text in ["", "\u{0}\u{1}", "[[[", "- - -", "rules: 5", "groups: {a: b}", ":"] {
            #expect(!issues(ofRules: text).isEmpty, "\(text.debugDescription) parsed")
        }
    }

    @Test(arguments: [
        ("0", 0.0), ("0s", 0), ("90s", 90), ("10m", 600), ("2h", 7_200), ("1d", 86_400), ("1w", 604_800),
        ("1h30m", 5_400), ("500ms", 0.5),
    ] as [(String, Double)])
    func durations(text: String, seconds: Double) {
        #expect(AlertDuration.seconds(text) == seconds)
    }

    @Test(arguments: ["", "10", "m", "1x", "1.5h", "-1h", "1h 30m", "h1", "999999999w", "99999999999999999999s"])
    func badDurations(text: String) {
        #expect(AlertDuration.seconds(text) == nil)
    }
}
