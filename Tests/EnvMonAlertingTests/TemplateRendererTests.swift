import EnvMonDomain
import Testing
@testable import EnvMonAlerting

@Suite struct TemplateRendererTests {
    @Test func rendersVariablesBracesAndMissingValues() {
        let text = TemplateRenderer.render("{{literal}} {metric} {period} {days}", variables: ["metric": "m", "period": "2026"])
        #expect(text == "{literal} m 2026 —")
        #expect(TemplateRenderer.render("open { brace", variables: [:]) == "open { brace")
    }

    @Test func problemsNameUnknownVariablesAndUnclosedBraces() {
        #expect(TemplateRenderer.problems(in: "{value} {target_pct} {{x}}").isEmpty)
        #expect(TemplateRenderer.problems(in: "{vaule}").map(\.message) == ["unknown template variable '{vaule}'; did you mean '{value}'?"])
        #expect(TemplateRenderer.problems(in: "a {value").first?.message.hasPrefix("unclosed '{'") == true)
    }

    @Test(arguments: AlertMetricName.all)
    func everyMetricHasChineseAndEnglishNames(metric: AlertMetricName) {
        #expect(AlertMetricName.named(metric.id) == metric)
        #expect(!metric.chinese.isEmpty && !metric.english.isEmpty)
        let variables = TemplateRenderer.variables(rule: rule(), labels: ["metric": metric.id], annotations: [:],
                                                   value: nil, target: nil)
        #expect(variables["metric_zh"] == metric.chinese)
    }

    @Test func metricValuesReadAsPeopleWriteThem() throws {
        #expect(AlertMetricName.all.count == 8)
        #expect(try #require(AlertMetricName.named("sewage_treatment_rate")).format(0.9234) == "92.3%")
        #expect(try #require(AlertMetricName.named("park_green_per_capita_m2")).format(12.5) == "12.5 m²")
        #expect(AlertMetricName.decimal(-0.04, places: 1) == "0")
        #expect(AlertMetricName.decimal(3.05, places: 2) == "3.05")
        #expect(AlertMetricName.decimal(.nan, places: 1) == "NaN")
        let variables = TemplateRenderer.variables(
            rule: rule(), labels: ["metric": "park_green_per_capita_m2"], annotations: [:], value: 11, target: 12)
        #expect(variables["gap"] == "-1 m²")  // value − target, as in analytics.plan_progress
        #expect(variables["shortfall"] == "1 m²")
        #expect(variables["value"] == "11 m²")
    }
}

@Suite struct AlertDocsTests {
    /// docs/alerts.md documents every key and template variable the parser accepts.
    @Test func docsNameEveryKeyAndVariable() throws {
        let docs = try repositoryFile("docs/alerts.md")
        let names = TemplateRenderer.knownVariables.keys.sorted() + RuleFile.ruleKeys
            + ["receiver", "group_by", "group_wait", "group_interval", "repeat_interval", "send_resolved",
               "matchers", "continue", "routes", "escalate"]
        let missing = names.filter { !docs.contains("`\($0)`") }
        #expect(missing.isEmpty, "undocumented: \(missing)")
        for metric in AlertMetricName.all {
            #expect(docs.contains(metric.chinese))
        }
    }
}
