import Foundation
public import EnvMonDomain

/// Renders the `summary` and `description` templates of alert rules.
///
/// The syntax is deliberately small: `{name}` is replaced by the variable `name`, `{{` and `}}`
/// stand for literal braces, everything else is copied. A variable the alert does not carry
/// renders as `—`, so a text never shows a raw placeholder; a name that is not in
/// ``knownVariables`` is rejected when the rule file is parsed.
///
/// ```swift
/// TemplateRenderer.render("{metric_zh}为{value}，目标{target}", variables: vars)
/// // 污水集中处理率为91.2%，目标95%
/// ```
public enum TemplateRenderer {
    /// Every variable a template may name, with what it holds (docs/alerts.md lists the same).
    public static let knownVariables: [String: String] = [
        "value": "the measured value as people read it (92.3% for rates, 12.5 m² per capita)",
        "value_pct": "the value × 100 with one decimal and %",
        "target": "the plan target, written like value",
        "target_pct": "the target × 100 with one decimal and %",
        "gap": "value − target, written like value (negative when short of a ≥ target; the views' gap)",
        "gap_pct": "(value − target) × 100 in percentage points",
        "shortfall": "how far the value is from meeting the target (target − value for ≥, value − target for ≤), written like value",
        "shortfall_pct": "the shortfall × 100 in percentage points",
        "metric": "the metric id, e.g. sewage_treatment_rate",
        "metric_zh": "the Chinese metric name, e.g. 污水集中处理率",
        "metric_en": "the English metric name",
        "scope": "the plan scope: all, or a district",
        "district": "the district",
        "period": "the period the value covers, e.g. 2026-10 or 2026",
        "status": "plan progress status: missed, at_risk, on_track",
        "due": "the date the target is due",
        "rule": "the rule name",
        "kind": "the rule kind",
        "severity": "critical, warning or info",
        "enterprise_id": "the enterprise id",
        "enterprise_name": "the enterprise name",
        "outlet_id": "the outlet id",
        "pollutant": "the pollutant code or name",
        "limit": "the emission limit",
        "days": "exceeding days inside the lookback window, with their daily means",
        "day_count": "how many days exceeded",
        "lookback": "the exceedance lookback window, e.g. 31d",
        "section_id": "the river section id",
        "section_name": "the river section name",
        "river": "the river",
        "water_class": "the section's class, e.g. 劣Ⅴ",
        "site_id": "the site (enterprise, plant, section or district) that went silent",
        "site_name": "the site's name",
        "feed_kind": "emissions, sewage, water, green or waste",
        "last_data_at": "when the last data of the site arrived",
        "cadence": "the expected cadence of the feed kind, e.g. 24h",
        "silent_for": "how long the site has been silent",
        "uploader": "who uploaded the file",
        "upload_id": "the upload id",
        "file_name": "the uploaded file's name",
        "rejected": "rejected rows of the upload",
        "total": "all rows of the upload",
        "max_rejected_share": "the allowed rejected share, e.g. 5%",
        "mn": "the data logger's MN",
        "device_name": "the data logger's name (its MN when it has none)",
        "last_packet_at": "when the data logger's last accepted packet arrived",
        "silence": "the silence that makes a data logger offline, e.g. 2h",
        "count": "how many valid values in a row are equal, or zero or negative",
        "since": "when that run of values began",
        "last_at": "the time of the run's latest value",
        "last_value": "the run's latest value",
        "min_consecutive": "the values in a row that raise the alert",
    ]

    /// Text for a variable that the alert does not carry.
    public static let missingValue = "—"

    /// `template` with every `{name}` replaced from `variables` (`—` when absent).
    public static func render(_ template: String, variables: [String: String]) -> String {
        var output = ""
        for piece in pieces(of: template) {
            switch piece {
            case let .text(text): output += text
            case let .variable(name, _): output += variables[name] ?? missingValue
            case let .unclosed(text): output += text
            }
        }
        return output
    }

    /// Problems in `template`: unknown variables and unclosed braces, with the character offset.
    static func problems(in template: String) -> [(offset: Int, message: String)] {
        var problems: [(offset: Int, message: String)] = []
        for piece in pieces(of: template) {
            switch piece {
            case .text: continue
            case let .variable(name, offset) where knownVariables[name] == nil:
                var message = "unknown template variable '{\(name)}'"
                if let guess = YAMLReading.closest(to: name, among: knownVariables.keys.sorted()) {
                    message += "; did you mean '{\(guess)}'?"
                }
                problems.append((offset, message))
            case .variable: continue
            case let .unclosed(text):
                problems.append((0, "unclosed '{' in template near '\(text.prefix(20))' (write {{ for a literal brace)"))
            }
        }
        return problems
    }

    /// The template variables an alert carries: its labels, its annotations and the values
    /// worked out from its value and target with the metric's unit.
    public static func variables(
        rule: AlertRule, labels: [String: String], annotations: [String: String],
        value: Double?, target: Double?
    ) -> [String: String] {
        var variables = labels.merging(annotations) { _, annotation in annotation }
        variables["rule"] = rule.name
        variables["kind"] = rule.kind.rawValue
        variables["severity"] = rule.severity.rawValue
        let metric = labels["metric"].flatMap(AlertMetricName.named)
        if let metric {
            variables["metric_zh"] = variables["metric_zh"] ?? metric.chinese
            variables["metric_en"] = variables["metric_en"] ?? metric.english
        }
        func written(_ number: Double) -> String {
            metric?.format(number) ?? AlertMetricName.decimal(number, places: 4)
        }
        func percent(_ number: Double) -> String { AlertMetricName.decimal(number * 100, places: 1) + "%" }
        if let value {
            variables["value"] = variables["value"] ?? written(value)
            variables["value_pct"] = variables["value_pct"] ?? percent(value)
        }
        if let target {
            variables["target"] = variables["target"] ?? written(target)
            variables["target_pct"] = variables["target_pct"] ?? percent(target)
        }
        if let value, let target {
            // One meaning of gap everywhere: value − target, as analytics.plan_progress has it.
            let gap = value - target
            let upperBound = ["<=", "<"].contains(variables["comparator"] ?? "")
            let shortfall = upperBound ? gap : -gap
            func points(_ number: Double) -> String { AlertMetricName.decimal(number * 100, places: 1) + "个百分点" }
            variables["gap"] = variables["gap"] ?? written(gap)
            variables["gap_pct"] = variables["gap_pct"] ?? points(gap)
            variables["shortfall"] = variables["shortfall"] ?? written(shortfall)
            variables["shortfall_pct"] = variables["shortfall_pct"] ?? points(shortfall)
        }
        switch rule.kind {
        case .exceedance: variables["lookback"] = variables["lookback"] ?? AlertDuration.text(rule.lookback)
        case .dataQuality:
            variables["max_rejected_share"] = variables["max_rejected_share"] ?? percent(rule.maxRejectedShare)
        case .missingData:
            if variables["cadence"] == nil, let kind = variables["feed_kind"].flatMap(FeedKind.init(rawValue:)),
               let cadence = rule.cadence[kind] {
                variables["cadence"] = AlertDuration.text(cadence)
            }
        case .deviceOffline: variables["silence"] = variables["silence"] ?? AlertDuration.text(rule.silence)
        case .constantValue, .zeroOrNegative:
            variables["min_consecutive"] = variables["min_consecutive"] ?? String(rule.minConsecutive)
        case .target, .forecast, .waterClass: break
        }
        return variables
    }

    private enum Piece {
        case text(String)
        case variable(String, offset: Int)
        case unclosed(String)
    }

    private static func pieces(of template: String) -> [Piece] {
        var pieces: [Piece] = []
        var text = ""
        let characters = Array(template)
        var index = 0
        while index < characters.count {
            let character = characters[index]
            let next: Character? = index + 1 < characters.count ? characters[index + 1] : nil
            if character == "{", next == "{" {
                text.append("{")
                index += 2
            } else if character == "}", next == "}" {
                text.append("}")
                index += 2
            } else if character == "{" {
                guard let close = characters[index...].firstIndex(of: "}") else {
                    pieces.append(.text(text))
                    text = ""
                    pieces.append(.unclosed(String(characters[index...])))
                    break
                }
                pieces.append(.text(text))
                text = ""
                let name = String(characters[(index + 1)..<close]).trimmingCharacters(in: .whitespaces)
                pieces.append(.variable(name, offset: index))
                index = close + 1
            } else {
                text.append(character)
                index += 1
            }
        }
        pieces.append(.text(text))
        return pieces
    }
}
